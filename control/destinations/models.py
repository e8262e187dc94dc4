from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from control.destinations.choices import AuthType, HttpMethod
from control.workspaces.models import Workspace, slug_validator
from streams.spec import DEFAULT_RETRY_SCHEDULE_S


def default_retry_schedule() -> list[float]:
    return list(DEFAULT_RETRY_SCHEDULE_S)


class Destination(models.Model):
    """An HTTP endpoint that pipelines deliver to; its secrets are Fernet tokens made with the platform key."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="destinations")
    name = models.CharField(max_length=64, validators=[slug_validator])
    description = models.CharField(max_length=500, blank=True)
    url = models.URLField(max_length=2000)
    method = models.CharField(max_length=8, choices=HttpMethod.choices, default=HttpMethod.POST)
    headers = models.JSONField(default=dict, blank=True)
    timeout_s = models.FloatField(default=10.0, validators=[MinValueValidator(0.1), MaxValueValidator(120)])
    auth_type = models.CharField(max_length=16, choices=AuthType.choices, default=AuthType.NONE)
    auth_username = models.CharField(max_length=200, blank=True)
    auth_secret_enc = models.TextField(blank=True, help_text="Basic-auth password or bearer token, encrypted.")
    signing_secret_enc = models.TextField(blank=True, help_text="Standard Webhooks secret (whsec_...), encrypted.")
    retry_schedule_s = models.JSONField(default=default_retry_schedule, blank=True)
    max_concurrency = models.PositiveIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    circuit_failure_threshold = models.PositiveIntegerField(default=5, validators=[MinValueValidator(1)])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workspace__slug", "name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="destination_unique_name")]

    def __str__(self) -> str:
        return f"{self.workspace.slug}/{self.name}"
