from django.apps import AppConfig


class MappingsConfig(AppConfig):
    name = "control.mappings"
    label = "mappings"
