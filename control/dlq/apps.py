from django.apps import AppConfig


class DlqConfig(AppConfig):
    name = "control.dlq"
    label = "dlq"
    verbose_name = "Dead-letter queues"
