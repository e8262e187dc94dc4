from django.conf import settings
from django.db import models

from control.schemas.choices import Compatibility
from control.workspaces.models import Workspace, slug_validator


class Schema(models.Model):
    """A named JSON Schema that evolves through immutable versions under a compatibility mode."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="schemas")
    name = models.CharField(max_length=64, validators=[slug_validator])
    description = models.CharField(max_length=500, blank=True)
    compatibility = models.CharField(max_length=16, choices=Compatibility.choices, default=Compatibility.BACKWARD)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workspace__slug", "name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="schema_unique_name")]

    def __str__(self) -> str:
        return f"{self.workspace.slug}/{self.name}"

    @property
    def latest_version(self) -> "SchemaVersion | None":
        return self.versions.order_by("-version").first()


class SchemaVersion(models.Model):
    """One immutable JSON Schema document (draft 2020-12, 2019-09 or 7), checked against its meta-schema."""

    schema = models.ForeignKey(Schema, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    definition = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["schema", "-version"]
        constraints = [models.UniqueConstraint(fields=["schema", "version"], name="schema_version_unique")]

    def __str__(self) -> str:
        return f"{self.schema} v{self.version}"
