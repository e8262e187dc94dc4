from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "control.audit"
    label = "audit"
