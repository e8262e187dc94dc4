from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "control.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from control.monitoring.metrics import register_collectors

        register_collectors()
