from django.db import models

from control.pipelines.choices import PipelineState
from control.workspaces.models import Workspace, slug_validator


class Stream(models.Model):
    """A named flow of events in a workspace; it owns four topics: raw, enriched, dlq, retry."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="streams")
    name = models.CharField(max_length=64, validators=[slug_validator])
    partitions = models.PositiveSmallIntegerField(default=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workspace__slug", "name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="stream_unique_name")]

    def __str__(self) -> str:
        return f"{self.workspace.slug}/{self.name}"


class Pipeline(models.Model):
    """Source stream -> JSONata mapping -> target stream -> HTTP destination."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="pipelines")
    name = models.CharField(max_length=64, validators=[slug_validator])
    source = models.ForeignKey(Stream, on_delete=models.PROTECT, related_name="pipelines_out")
    target = models.ForeignKey(Stream, on_delete=models.PROTECT, related_name="pipelines_in")
    mapping = models.TextField(help_text="A JSONata expression applied to every event of the source stream.")
    destination_url = models.URLField(max_length=2000)
    state = models.CharField(max_length=16, choices=PipelineState.choices, default=PipelineState.ACTIVE)
    revision = models.PositiveIntegerField(default=0, help_text="Increases with every published change.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workspace__slug", "name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="pipeline_unique_name")]

    def __str__(self) -> str:
        return f"{self.workspace.slug}/{self.name}"
