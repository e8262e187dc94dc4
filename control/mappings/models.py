from django.conf import settings
from django.db import models

from control.workspaces.models import Workspace, slug_validator


class Mapping(models.Model):
    """A named JSONata transformation that evolves through immutable versions."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="mappings")
    name = models.CharField(max_length=64, validators=[slug_validator])
    description = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workspace__slug", "name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="mapping_unique_name")]

    def __str__(self) -> str:
        return f"{self.workspace.slug}/{self.name}"

    @property
    def latest_version(self) -> "MappingVersion | None":
        return self.versions.order_by("-version").first()


class MappingVersion(models.Model):
    """One immutable JSONata expression, compiled on save by the engine the workers use, with an optional sample."""

    mapping = models.ForeignKey(Mapping, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    expression = models.TextField()
    sample_input = models.JSONField(null=True, blank=True)
    expected_output = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["mapping", "-version"]
        constraints = [models.UniqueConstraint(fields=["mapping", "version"], name="mapping_version_unique")]

    def __str__(self) -> str:
        return f"{self.mapping} v{self.version}"
