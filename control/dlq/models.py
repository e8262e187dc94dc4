from django.db import models

from control.streams.models import Stream
from control.workspaces.models import Workspace


class DlqRecord(models.Model):
    """One DLQ record's failure, indexed for search. Kafka is the source of truth: `manage.py rebuild_dlq_index`
    rebuilds this table from the topics, and an event's payload and headers are always read from Kafka."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="dlq_records")
    partition = models.PositiveIntegerField()
    offset = models.BigIntegerField()
    event_id = models.CharField(max_length=64, blank=True, db_index=True)
    correlation_id = models.CharField(max_length=128, blank=True)
    pipeline_id = models.CharField(max_length=64, blank=True, help_text="The sy-pipeline header (a pipeline id).")
    revision = models.PositiveIntegerField(null=True, blank=True)
    stage = models.CharField(max_length=16, blank=True)
    error_type = models.CharField(max_length=100, blank=True)
    message = models.TextField(blank=True)
    pointer = models.CharField(max_length=500, blank=True)
    failed_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=1)
    destination_id = models.CharField(max_length=64, blank=True)
    origin_topic = models.CharField(max_length=255, blank=True)
    origin_partition = models.IntegerField(null=True, blank=True)
    origin_offset = models.BigIntegerField(null=True, blank=True)
    replay_job = models.CharField(max_length=64, blank=True, help_text="Set when a replayed event failed again.")

    class Meta:
        ordering = ["-failed_at", "-id"]
        verbose_name = "DLQ record"
        constraints = [
            models.UniqueConstraint(fields=["stream", "partition", "offset"], name="dlq_record_unique_position")
        ]
        indexes = [
            models.Index(fields=["stream", "-failed_at", "-id"], name="dlq_stream_failed_at"),
            models.Index(fields=["stream", "stage", "error_type"], name="dlq_stream_stage_type"),
            models.Index(fields=["stream", "pipeline_id", "revision"], name="dlq_stream_pipeline"),
        ]

    def __str__(self) -> str:
        return f"{self.stream} {self.partition}@{self.offset} {self.stage}/{self.error_type}"
