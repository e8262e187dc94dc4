from django.db import models


class SignatureType(models.TextChoices):
    """How the ingest endpoint verifies that a request comes from the producer (streams.spec.SignatureSpec)."""

    NONE = "none", "None"
    STANDARD_WEBHOOKS = "standard-webhooks", "Standard Webhooks"
    HMAC_SHA256 = "hmac-sha256", "HMAC-SHA256 (X-Hub-Signature-256)"
