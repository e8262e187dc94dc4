from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "control.core"
    label = "core"
    verbose_name = "Platform"
