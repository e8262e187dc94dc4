"""A replay job run by a real worker, rate-limited, cancelled part-way; the worker confirms how far it got."""

from __future__ import annotations

import time
import uuid

import pytest

from control.dlq.selectors import DlqFilter
from control.monitoring.consumer import StatusConsumer
from control.pipelines.services import pipeline_activate
from control.pipelines.specs import spec_bytes
from control.replay import services
from control.replay.choices import ReplayState
from streams.replay import RETRANSFORM
from streams.spec import parse_spec
from tests.conftest import wait_for
from tests.control.dlq.kit import dlq_produce, index_until, missing_id

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.django_db]


def test_a_running_job_is_cancelled_and_the_worker_reports_how_far_it_got(world, team, worker) -> None:  # type: ignore[no-untyped-def]
    spec = parse_spec(spec_bytes(pipeline_activate(pipeline=world.pipeline).spec, state="active"))
    dlq_produce(world.stream, [({"total": i}, missing_id()) for i in range(40)], pipeline=spec)
    index_until(40, world.stream)
    job = services.replay_job_create(
        workspace=world.workspace, stream=world.stream, target=RETRANSFORM, filters=DlqFilter(), rate_per_s=2
    )
    services.replay_start(job=job, actor=team.editor)
    consumer = StatusConsumer(group=f"test-{uuid.uuid4().hex[:8]}")
    try:
        # The worker checkpoints every 200 records (and on finishing or cancelling): at 2/s, let it run a little.
        time.sleep(4)
        services.replay_cancel(job=job, actor=team.editor)

        def confirmed() -> bool:
            consumer.poll_once(0.5)
            return bool(_refresh(job).worker)

        wait_for(confirmed, timeout=60, what="the worker's final checkpoint")
    finally:
        consumer.close()
    assert job.state == ReplayState.CANCELLED
    assert 0 < job.matched < 40 and job.replayed <= job.matched
    assert sum(job.next_offsets.values()) < 40


def _refresh(job):  # type: ignore[no-untyped-def]
    job.refresh_from_db()
    return job
