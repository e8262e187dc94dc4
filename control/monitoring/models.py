from django.db import models

from control.pipelines.models import Pipeline


class DestinationHealth(models.Model):
    """The latest circuit snapshot a worker published for a destination (status topic, key destination:<id>)."""

    destination_id = models.CharField(max_length=64, primary_key=True)
    state = models.CharField(max_length=16, help_text="closed, half_open or open, as the worker reports it.")
    snapshot = models.JSONField(default=dict)
    worker = models.CharField(max_length=200, blank=True)
    reported_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"destination {self.destination_id}: {self.state}"


class PipelineStatsSample(models.Model):
    """One worker's cumulative counters for one pipeline at one moment (status topic, key worker:<id>).

    Throughput is the difference between consecutive samples of the same worker; samples older than
    SWITCHYARD_STATS_RETENTION_MINUTES are pruned by the status consumer.
    """

    pipeline_id = models.CharField(max_length=64)
    worker = models.CharField(max_length=200)
    at = models.DateTimeField()
    events = models.JSONField(default=dict, help_text='{"transform:ok": n, "deliver:delivered": n, ...}')
    dlq = models.FloatField(default=0)
    lag = models.FloatField(default=0)
    oldest_undelivered_s = models.FloatField(default=0)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["pipeline_id", "at"], name="stats_pipeline_at")]

    def __str__(self) -> str:
        return f"pipeline {self.pipeline_id} @ {self.worker} {self.at:%H:%M:%S}"


class PipelineDashboard(Pipeline):
    """The admin's per-pipeline dashboard (a read-only view of pipelines; no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "pipeline dashboard"
