from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from control.streams.choices import SignatureType
from control.workspaces.models import Workspace, slug_validator

key_path_validator = RegexValidator(
    r"^(\$\.)?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$",
    "Use a dotted path into the event such as customer.id (a leading '$.' is allowed).",
)


class Stream(models.Model):
    """A named flow of events in a workspace; it owns four topics: raw, enriched, dlq and retry."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="streams")
    name = models.CharField(max_length=64, validators=[slug_validator])
    description = models.CharField(max_length=500, blank=True)
    partitions = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1), MaxValueValidator(256)])
    key_path = models.CharField(
        max_length=200,
        blank=True,
        validators=[key_path_validator],
        help_text="The event's value at this path becomes the Kafka key: one entity's events stay in order.",
    )
    retention_raw_days = models.PositiveIntegerField(default=7, validators=[MinValueValidator(1)])
    retention_enriched_days = models.PositiveIntegerField(default=7, validators=[MinValueValidator(1)])
    retention_retry_days = models.PositiveIntegerField(default=7, validators=[MinValueValidator(1)])
    retention_dlq_days = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(1)], help_text="Keep it longest: the DLQ is where replays start."
    )
    signature_type = models.CharField(max_length=32, choices=SignatureType.choices, default=SignatureType.NONE)
    signature_secret_enc = models.TextField(blank=True, help_text="Fernet token; never the secret itself.")
    signature_header = models.CharField(max_length=100, default="X-Hub-Signature-256")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workspace__slug", "name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="stream_unique_name")]

    def __str__(self) -> str:
        return f"{self.workspace.slug}/{self.name}"


class IngestKey(models.Model):
    """A producer's credential for POST /ingest: shown once, stored as a SHA-256, revocable."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="ingest_keys")
    stream = models.ForeignKey(
        Stream,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="ingest_keys",
        help_text="Empty: the key works for every stream of the workspace.",
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The first characters: enough to recognise the key.")
    sha256 = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["workspace__slug", "-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
