from django.conf import settings
from django.db import models

from control.destinations.models import Destination
from control.mappings.models import MappingVersion
from control.pipelines.choices import PipelineState
from control.schemas.models import SchemaVersion
from control.streams.models import Stream
from control.workspaces.models import Workspace, slug_validator


class Pipeline(models.Model):
    """Source stream -> (input schema) -> mapping -> (output schema) -> target stream -> destinations.

    These fields are the working configuration; what the workers run is the active revision's spec, compiled
    from them at activation.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="pipelines")
    name = models.CharField(max_length=64, validators=[slug_validator])
    description = models.CharField(max_length=500, blank=True)
    source = models.ForeignKey(Stream, on_delete=models.PROTECT, related_name="pipelines_out")
    input_schema_version = models.ForeignKey(
        SchemaVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    mapping_version = models.ForeignKey(MappingVersion, on_delete=models.PROTECT, related_name="pipelines")
    output_schema_version = models.ForeignKey(
        SchemaVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target = models.ForeignKey(Stream, on_delete=models.PROTECT, related_name="pipelines_in")
    destinations = models.ManyToManyField(Destination, blank=True, related_name="pipelines")
    state = models.CharField(max_length=16, choices=PipelineState.choices, default=PipelineState.DRAFT)
    current_revision = models.ForeignKey(
        "PipelineRevision",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The revision the workers run (or hold, when paused).",
    )
    first_activated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workspace__slug", "name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="pipeline_unique_name")]

    def __str__(self) -> str:
        return f"{self.workspace.slug}/{self.name}"

    @property
    def mapping(self) -> str:
        """The working configuration's JSONata expression."""
        return self.mapping_version.expression


class PipelineRevision(models.Model):
    """An immutable compiled spec, created by each activation (and rollback); it is what the workers receive."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    spec = models.JSONField(help_text="The compiled PipelineSpec; destination secrets stay encrypted.")
    # The configuration it was compiled from, so a rollback can restore it.
    source = models.ForeignKey(Stream, on_delete=models.PROTECT, related_name="+")
    target = models.ForeignKey(Stream, on_delete=models.PROTECT, related_name="+")
    input_schema_version = models.ForeignKey(
        SchemaVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    mapping_version = models.ForeignKey(MappingVersion, on_delete=models.PROTECT, related_name="+")
    output_schema_version = models.ForeignKey(
        SchemaVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    destination_ids = models.JSONField(default=list)
    rolled_back_from = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pipeline", "-number"]
        constraints = [models.UniqueConstraint(fields=["pipeline", "number"], name="pipeline_revision_unique")]

    def __str__(self) -> str:
        return f"{self.pipeline} r{self.number}"
