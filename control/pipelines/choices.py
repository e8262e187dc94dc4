from django.db import models


class PipelineState(models.TextChoices):
    """draft: never activated; active / paused: the workers run / hold its current revision; archived: gone."""

    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"


TERMINAL_STATES = frozenset({PipelineState.ARCHIVED})
