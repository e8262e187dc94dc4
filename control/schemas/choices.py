from django.db import models


class Compatibility(models.TextChoices):
    """Which evolution a schema allows, as in Confluent Schema Registry (checked against the latest version)."""

    BACKWARD = "BACKWARD", "Backward (new schema reads old data)"
    FORWARD = "FORWARD", "Forward (old schema reads new data)"
    FULL = "FULL", "Full (both)"
    NONE = "NONE", "None"
