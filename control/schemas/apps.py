from django.apps import AppConfig


class SchemasConfig(AppConfig):
    name = "control.schemas"
    label = "schemas"
