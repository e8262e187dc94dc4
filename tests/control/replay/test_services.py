"""Replay jobs without a worker: the dry run (real broker, the worker's code), start, cancel, progress, audit."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from confluent_kafka import Consumer, TopicPartition
from django.conf import settings

from control.audit.models import AuditEvent
from control.core.exceptions import Conflict
from control.dlq.selectors import DlqFilter, dlq_record_list
from control.pipelines.services import pipeline_activate, pipeline_mapping_change
from control.pipelines.specs import spec_bytes
from control.replay import services
from control.replay.choices import ReplayState
from streams.exceptions import TransformFailed
from streams.replay import RETRANSFORM, ReplayCommand, ReplayProgress
from streams.spec import parse_spec
from tests.control.dlq.kit import dlq_produce, index_until, missing_id

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def _bad_events(world):  # type: ignore[no-untyped-def]
    spec = parse_spec(spec_bytes(pipeline_activate(pipeline=world.pipeline).spec, state="active"))
    failing = TransformFailed("T2001", error_type="T2001")
    events = [({"id": "o-1"}, failing), ({"id": "o-2"}, failing), ({"total": 3}, missing_id())]
    ids = dlq_produce(world.stream, events, pipeline=spec)
    index_until(3, world.stream)
    return ids


def test_dry_run_reports_what_passes_and_what_still_fails(world, team) -> None:  # type: ignore[no-untyped-def]
    ids = _bad_events(world)
    job = services.replay_job_create(
        workspace=world.workspace, stream=world.stream, target=RETRANSFORM, filters=DlqFilter(), actor=team.editor
    )
    assert job.selected == 3
    report = services.replay_dry_run(job=job, actor=team.editor).dry_run
    assert (report["examined"], report["would_pass"], report["would_fail"], report["skipped"]) == (3, 2, 1, 0)
    [failure] = report["failures"]
    assert (failure["stage"], failure["error_type"], failure["count"]) == ("validate", "SchemaViolation", 1)
    assert failure["samples"][0]["event_id"] == ids[2]
    [passing] = report["passes"]
    assert json.loads(passing["samples"][0]["output"]) == {"order": "o-1"}

    # A new mapping revision changes the verdict: the dry run uses the current active revision.
    pipeline_mapping_change(pipeline=world.pipeline, expression='{"order": $string(total)}')
    job2 = services.replay_job_create(
        workspace=world.workspace,
        stream=world.stream,
        target=RETRANSFORM,
        filters=DlqFilter(event_ids=(ids[0],)),
        actor=team.editor,
    )
    report2 = services.replay_dry_run(job=job2).dry_run
    assert (report2["examined"], report2["would_pass"], report2["would_fail"]) == (1, 0, 1)
    assert report2["failures"][0]["stage"] == "validate"  # the output schema needs "order" as a string
    actions = set(AuditEvent.objects.filter(object_type="replayjob").values_list("action", flat=True))
    assert {"replay.create", "replay.dry_run"} <= actions


def test_start_fixes_end_offsets_publishes_the_command_and_follows_progress(world, team) -> None:  # type: ignore[no-untyped-def]
    _bad_events(world)
    job = services.replay_job_create(
        workspace=world.workspace, stream=world.stream, target=RETRANSFORM, filters=DlqFilter(), rate_per_s=5
    )
    services.replay_start(job=job, actor=team.editor)
    assert job.state == ReplayState.RUNNING
    assert sum(job.end_offsets.values()) == 3
    with pytest.raises(Conflict):
        services.replay_start(job=job)

    consumer = Consumer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP, "group.id": "probe", "log_level": 3})
    topic = services.commands_topic()
    parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    messages = []
    for p in parts:
        consumer.assign([TopicPartition(topic, p, 0)])
        while (m := consumer.poll(2)) is not None and m.error() is None:
            messages.append(m)
    consumer.close()
    [message] = messages
    command = ReplayCommand.from_json(message.value())
    assert message.key().decode() == job.job_id
    assert (command.action, command.target, command.rate_per_s) == ("run", RETRANSFORM, 5)
    assert sum(command.end_offsets.values()) == 3

    services.replay_progress_apply(progress=ReplayProgress(job.job_id, matched=2, replayed=1))
    services.replay_progress_apply(progress=ReplayProgress(job.job_id, "completed", matched=3, replayed=3))
    services.replay_progress_apply(progress=ReplayProgress(job.job_id, "running", matched=1))  # late: ignored
    job.refresh_from_db()
    assert (job.state, job.matched, job.replayed) == (ReplayState.COMPLETED, 3, 3)
    assert AuditEvent.objects.filter(object_id=str(job.pk), action="replay.completed").count() == 1

    rerun = services.replay_rerun(job=job, actor=team.editor)
    assert rerun.rerun_of == job and rerun.selection["from_offsets"] == job.end_offsets
    assert rerun.selected == 0  # everything below the first job's end offsets was the first job's
    with pytest.raises(Conflict):
        services.replay_cancel(job=job)


def test_a_rerun_cuts_by_offsets_so_clock_skew_neither_loses_nor_repeats(world, team) -> None:  # type: ignore[no-untyped-def]
    _bad_events(world)
    job = services.replay_job_create(
        workspace=world.workspace, stream=world.stream, target=RETRANSFORM, filters=DlqFilter()
    )
    services.replay_start(job=job, actor=team.editor)
    services.replay_progress_apply(progress=ReplayProgress(job.job_id, "completed", matched=3, replayed=3))
    job.refresh_from_db()
    # The control plane's clock runs ahead of the worker's: a failure written after the job started carries
    # a failed-at time before the job's start. A cut by time would never select it again.
    job.started_at += timedelta(minutes=5)
    job.save(update_fields=["started_at"])
    [late_id] = dlq_produce(
        world.stream, [({"id": "o-9"}, TransformFailed("T2001", error_type="T2001"))], pipeline=None
    )
    index_until(4, world.stream)

    rerun = services.replay_rerun(job=job, actor=team.editor)
    assert rerun.selected == 1
    command = services._command(rerun, "run")
    assert command.filter.from_offsets == {int(p): o for p, o in job.end_offsets.items()}
    assert list(
        dlq_record_list(stream=world.stream, filters=DlqFilter.from_json(rerun.selection)).values_list(
            "event_id", flat=True
        )
    ) == [late_id]


def test_cancel_an_unstarted_job_needs_no_kafka(world, team, settings) -> None:  # type: ignore[no-untyped-def]
    job = services.replay_job_create(
        workspace=world.workspace, stream=world.stream, target=RETRANSFORM, filters=DlqFilter()
    )
    settings.KAFKA_BOOTSTRAP = "127.0.0.1:1"
    services.replay_cancel(job=job, actor=team.owner)
    assert job.state == ReplayState.CANCELLED
