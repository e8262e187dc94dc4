from django.apps import AppConfig


class DestinationsConfig(AppConfig):
    name = "control.destinations"
    label = "destinations"
