from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "control.workspaces"
    label = "workspaces"
