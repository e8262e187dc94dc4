import uuid

from django.conf import settings
from django.db import models

from control.replay.choices import ReplayState, ReplayTarget
from control.streams.models import Stream
from control.workspaces.models import Workspace


def _job_id() -> str:
    return f"rj-{uuid.uuid4().hex}"


class ReplayJob(models.Model):
    """A selection of a stream's DLQ records re-injected by the workers (re-transform or re-deliver).

    `job_id` is the key on the replay-commands and replay-progress topics; the progress fields are copied from the
    workers' progress records by the status consumer.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="replay_jobs")
    stream = models.ForeignKey(Stream, on_delete=models.PROTECT, related_name="replay_jobs")
    job_id = models.CharField(max_length=64, unique=True, default=_job_id, editable=False)
    target = models.CharField(max_length=16, choices=ReplayTarget.choices)
    selection = models.JSONField(default=dict, help_text="The DLQ filter: since, until, stages, error types, ...")
    rate_per_s = models.FloatField(default=50.0)
    state = models.CharField(max_length=16, choices=ReplayState.choices, default=ReplayState.CREATED)
    selected = models.PositiveIntegerField(default=0, help_text="Matching records in the DLQ index when created.")
    dry_run = models.JSONField(null=True, blank=True, help_text="The last dry run's report.")
    end_offsets = models.JSONField(default=dict, help_text="Fixed at start: the job reads up to here, never beyond.")
    matched = models.PositiveIntegerField(default=0)
    replayed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    next_offsets = models.JSONField(default=dict)
    message = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True)
    rerun_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "state"])]

    def __str__(self) -> str:
        return f"{self.stream} replay #{self.pk} ({self.target}, {self.state})"
