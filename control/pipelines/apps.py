from django.apps import AppConfig


class PipelinesConfig(AppConfig):
    name = "control.pipelines"
    label = "pipelines"
