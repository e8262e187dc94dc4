"""Writes for replay jobs: create, dry run, start, cancel, re-run, and the workers' progress. Each is audited."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from control.audit.services import audit_record, snapshot
from control.core.exceptions import Conflict, KafkaUnavailable, ValidationError
from control.core.kafka import TopicSpec, records_publish, topics_ensure
from control.dlq.reader import end_offsets
from control.dlq.selectors import DlqFilter, dlq_record_list
from control.dlq.services import dlq_topic
from control.monitoring.selectors import destination_health_states
from control.replay.choices import STARTABLE_STATES, TERMINAL_STATES, ReplayState, ReplayTarget
from control.replay.dry_run import dry_run_report
from control.replay.models import ReplayJob
from control.streams.models import Stream
from control.workspaces.models import Workspace
from streams.replay import ReplayCommand, ReplayProgress
from streams.topics import internal_topic

logger = logging.getLogger("switchyard.control.replay")

JOB_FIELDS = ("state", "target", "selection", "rate_per_s", "end_offsets", "matched", "replayed", "skipped", "failed")


def commands_topic() -> str:
    return internal_topic(env=settings.SWITCHYARD_ENV, name="replay-commands")


def progress_topic() -> str:
    return internal_topic(env=settings.SWITCHYARD_ENV, name="replay-progress")


def _replay_topics() -> list[TopicSpec]:
    # The same shape the workers create them with (streams/app.py), whichever side comes first.
    compact = {"cleanup.policy": "compact"}
    return [TopicSpec(commands_topic(), 3, compact), TopicSpec(progress_topic(), 1, compact)]


def replay_job_create(
    *,
    workspace: Workspace,
    stream: Stream,
    target: str,
    filters: DlqFilter,
    rate_per_s: float | None = None,
    actor: Any = None,
    rerun_of: ReplayJob | None = None,
) -> ReplayJob:
    if stream.workspace_id != workspace.pk:
        raise ValidationError("the stream belongs to another workspace", details={"stream": ["Not found."]})
    if target not in ReplayTarget.values:
        raise ValidationError(f"target must be one of {ReplayTarget.values}", details={"target": ["Unknown target."]})
    rate = rate_per_s or settings.REPLAY_DEFAULT_RATE_PER_S
    if not 0 < rate <= settings.REPLAY_MAX_RATE_PER_S:
        raise ValidationError(
            f"rate_per_s must be above 0 and at most {settings.REPLAY_MAX_RATE_PER_S}",
            details={"rate_per_s": [f"At most {settings.REPLAY_MAX_RATE_PER_S}."]},
        )
    job = ReplayJob(
        workspace=workspace,
        stream=stream,
        target=target,
        selection=filters.to_json(),
        rate_per_s=rate,
        selected=dlq_record_list(stream=stream, filters=filters).count(),
        rerun_of=rerun_of,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    with transaction.atomic():
        job.save()
        audit_record(actor=actor, workspace=workspace, action="replay.create", obj=job, after=snapshot(job, JOB_FIELDS))
    return job


def replay_dry_run(*, job: ReplayJob, actor: Any = None) -> ReplayJob:
    """Run the selection through the current active revision without producing; store and audit the report."""
    if job.state not in STARTABLE_STATES:
        raise Conflict(f"a {job.state} job cannot be dry-run; create a new job", details={"state": [job.state]})
    report = dry_run_report(
        stream=job.stream,
        target=job.target,
        filters=DlqFilter.from_json(job.selection),
        destination_health=destination_health_states(workspace=job.workspace),
    )
    before = snapshot(job, JOB_FIELDS)
    with transaction.atomic():
        job.dry_run = {**report, "at": timezone.now().isoformat()}
        job.state = ReplayState.DRY_RUN
        job.save(update_fields=["dry_run", "state"])
        counts = {k: report[k] for k in ("examined", "would_pass", "would_fail", "skipped")}
        audit_record(
            actor=actor,
            workspace=job.workspace,
            action="replay.dry_run",
            obj=job,
            before=before,
            after={**snapshot(job, JOB_FIELDS), "dry_run": counts},
        )
    return job


def _publish(command: ReplayCommand) -> None:
    topics_ensure(_replay_topics())
    acknowledged, error = records_publish([(commands_topic(), command.job_id, command.to_json())])
    if acknowledged != 1:
        raise KafkaUnavailable(f"the replay command was not acknowledged: {error}; nothing was started")


def _command(job: ReplayJob, action: str) -> ReplayCommand:
    return ReplayCommand(
        job_id=job.job_id,
        action=action,
        dlq_topic=dlq_topic(job.stream),
        target=job.target,
        end_offsets={int(p): int(o) for p, o in job.end_offsets.items()},
        filter=DlqFilter.from_json(job.selection).to_replay_filter(),
        rate_per_s=job.rate_per_s,
        live_lag_limit=settings.REPLAY_LIVE_LAG_LIMIT,
    )


def replay_start(*, job: ReplayJob, actor: Any = None) -> ReplayJob:
    """Fix the end offsets now and hand the job to the workers (503 kafka_unavailable if Kafka does not take it)."""
    if job.state not in STARTABLE_STATES:
        raise Conflict(
            f"this job is {job.state}; a job runs once (re-run a completed job to replay what failed since)",
            details={"state": [job.state]},
        )
    before = snapshot(job, JOB_FIELDS)
    with transaction.atomic():
        locked = ReplayJob.objects.select_for_update().get(pk=job.pk)
        if locked.state not in STARTABLE_STATES:
            raise Conflict(f"this job is already {locked.state}", details={"state": [locked.state]})
        job.end_offsets = {str(p): o for p, o in end_offsets(dlq_topic(job.stream)).items()}
        job.state = ReplayState.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["end_offsets", "state", "started_at"])
        audit_record(
            actor=actor,
            workspace=job.workspace,
            action="replay.start",
            obj=job,
            before=before,
            after=snapshot(job, JOB_FIELDS),
        )
        _publish(_command(job, "run"))  # inside the transaction: if Kafka refuses, the job stays unstarted
    logger.info("replay %s started on %s (%s) up to %s", job.job_id, job.stream, job.target, job.end_offsets)
    return job


def replay_cancel(*, job: ReplayJob, actor: Any = None) -> ReplayJob:
    """Stop a job: a running job gets a cancel command (the worker confirms); an unstarted one just ends."""
    if job.state in TERMINAL_STATES:
        raise Conflict(f"this job is already {job.state}", details={"state": [job.state]})
    before = snapshot(job, JOB_FIELDS)
    with transaction.atomic():
        was_running = job.state == ReplayState.RUNNING
        job.state = ReplayState.CANCELLED
        job.finished_at = timezone.now()
        job.save(update_fields=["state", "finished_at"])
        audit_record(
            actor=actor,
            workspace=job.workspace,
            action="replay.cancel",
            obj=job,
            before=before,
            after=snapshot(job, JOB_FIELDS),
        )
        if was_running:
            _publish(_command(job, "cancel"))
    return job


def replay_rerun(*, job: ReplayJob, actor: Any = None) -> ReplayJob:
    """A new job for a completed one's selection, limited to DLQ records written after it started.

    The cut is the first job's end offsets, not a time: everything below them was the first job's to replay, so
    nothing is selected twice, and events it replayed that failed again are above them (back in the DLQ with
    their attempt count increased), so they are selected.
    """
    if job.state != ReplayState.COMPLETED or job.started_at is None:
        raise Conflict(f"only a completed job can be re-run; this one is {job.state}", details={"state": [job.state]})
    filters = DlqFilter.from_json(job.selection)
    cut = {int(p): int(o) for p, o in job.end_offsets.items()}
    rerun = DlqFilter.from_json({**filters.to_json(), "from_offsets": cut})
    return replay_job_create(
        workspace=job.workspace,
        stream=job.stream,
        target=job.target,
        filters=rerun,
        rate_per_s=job.rate_per_s,
        actor=actor,
        rerun_of=job,
    )


_WORKER_STATES = {
    "running": ReplayState.RUNNING,
    "completed": ReplayState.COMPLETED,
    "cancelled": ReplayState.CANCELLED,
    "failed": ReplayState.FAILED,
}


def replay_progress_apply(*, progress: ReplayProgress) -> ReplayJob | None:
    """Copy a worker's progress record onto its job (called by the status consumer). Returns the job, if known."""
    job = ReplayJob.objects.select_related("workspace").filter(job_id=progress.job_id).first()
    if job is None:
        return None
    state = _WORKER_STATES.get(progress.state, ReplayState.RUNNING)
    before = snapshot(job, JOB_FIELDS)
    # Counters only grow; a terminal state is final (a late "running" checkpoint does not reopen a job).
    job.matched, job.replayed = max(job.matched, progress.matched), max(job.replayed, progress.replayed)
    job.skipped, job.failed = max(job.skipped, progress.skipped), max(job.failed, progress.failed)
    job.next_offsets = {str(p): o for p, o in progress.next_offsets.items()}
    job.worker, job.message = progress.worker[:200], progress.message
    updated = datetime.fromtimestamp(progress.updated_at, tz=UTC) if progress.updated_at else timezone.now()
    job.progress_at = updated
    finishing = job.state not in TERMINAL_STATES and state in TERMINAL_STATES
    if job.state not in TERMINAL_STATES:
        job.state = state
    if finishing:
        job.finished_at = updated
    with transaction.atomic():
        job.save()
        if finishing:
            audit_record(
                actor=None,
                workspace=job.workspace,
                action=f"replay.{job.state}",
                obj=job,
                before=before,
                after=snapshot(job, JOB_FIELDS),
            )
    return job
