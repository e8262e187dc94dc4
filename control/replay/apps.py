from django.apps import AppConfig


class ReplayConfig(AppConfig):
    name = "control.replay"
    label = "replay"
    verbose_name = "Replay jobs"
