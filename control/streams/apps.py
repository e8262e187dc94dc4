from django.apps import AppConfig


class StreamsConfig(AppConfig):
    # Not to be confused with the top-level `streams` package (the data plane): this app holds the
    # control plane's records of streams and their ingest keys.
    name = "control.streams"
    label = "eventstreams"
    verbose_name = "Streams"
