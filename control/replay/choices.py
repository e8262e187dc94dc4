from django.db import models

from streams.replay import REDELIVER, RETRANSFORM


class ReplayState(models.TextChoices):
    """created -> (dry_run) -> running -> completed | cancelled | failed."""

    CREATED = "created", "Created"
    DRY_RUN = "dry_run", "Dry run done"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


TERMINAL_STATES = frozenset({ReplayState.COMPLETED, ReplayState.CANCELLED, ReplayState.FAILED})
STARTABLE_STATES = frozenset({ReplayState.CREATED, ReplayState.DRY_RUN})


class ReplayTarget(models.TextChoices):
    RETRANSFORM = RETRANSFORM, "Re-transform (back to raw, through the pipeline's current active revision)"
    REDELIVER = REDELIVER, "Re-deliver (to the destination again; deliver-stage failures only)"
