from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "control.outbox"
    label = "outbox"
