"""Replay selection and the replayed record: pure rules shared by the dry run and the worker."""

from __future__ import annotations

import pytest

from streams import envelope
from streams.exceptions import InvalidSpec
from streams.replay import (
    REDELIVER,
    RETRANSFORM,
    NotReplayable,
    ReplayCommand,
    ReplayFilter,
    ReplayProgress,
    live_lanes,
    replay_record,
)
from streams.spec import HttpDestinationSpec, build_pipeline_spec
from streams.transform import Record


def dlq_record(**headers: str) -> Record:
    base = {
        envelope.EVENT_ID: "e-1",
        envelope.CORRELATION_ID: "c-1",
        envelope.PIPELINE: "p1",
        envelope.PIPELINE_REVISION: "3",
        envelope.ERROR_STAGE: "transform",
        envelope.ERROR_TYPE: "T2001",
        envelope.ERROR_MESSAGE: "boom",
        envelope.FAILED_AT: "2026-12-03T10:00:00.000Z",
        envelope.ATTEMPT: "1",
        envelope.ORIGIN_TOPIC: "dev.acme.orders.raw",
        envelope.ORIGIN_PARTITION: "0",
        envelope.ORIGIN_OFFSET: "41",
    }
    base.update(headers)
    return Record(
        topic="dev.acme.orders.dlq",
        partition=0,
        offset=5,
        key=b"k",
        value=b'{"a": 1}',
        headers=[(k, v.encode()) for k, v in base.items()],
        timestamp_ms=1,
    )


FAILED_MS = 1796292000000  # 2026-12-03T10:00:00Z


@pytest.mark.parametrize(
    ("selection", "selected"),
    [
        (ReplayFilter(), True),
        (ReplayFilter(stages=("transform",)), True),
        (ReplayFilter(stages=("deliver",)), False),
        (ReplayFilter(error_types=("T2001", "D3030")), True),
        (ReplayFilter(pipelines=("p2",)), False),
        (ReplayFilter(revisions=(3,)), True),
        (ReplayFilter(revisions=(4,)), False),
        (ReplayFilter(event_ids=("e-1",)), True),
        (ReplayFilter(since_ms=FAILED_MS), True),
        (ReplayFilter(since_ms=FAILED_MS + 1), False),
        (ReplayFilter(until_ms=FAILED_MS), False),
        (ReplayFilter(until_ms=FAILED_MS + 1), True),
        (ReplayFilter(from_offsets={0: 5}), True),  # the record is at partition 0, offset 5
        (ReplayFilter(from_offsets={0: 6}), False),
        (ReplayFilter(from_offsets={1: 100}), True),  # other partitions' cuts do not apply
    ],
)
def test_filter_selects_by_every_criterion(selection: ReplayFilter, selected: bool) -> None:
    assert selection.matches(dlq_record()) is selected


def test_retransform_goes_back_to_raw_without_failure_headers_and_for_its_pipeline_only() -> None:
    out = replay_record(dlq_record(), target=RETRANSFORM, job_id="j1", now_ms=0)
    headers = dict((k, v.decode()) for k, v in out.headers)
    assert out.topic == "dev.acme.orders.raw"
    assert (out.key, out.value) == (b"k", b'{"a": 1}')
    assert headers[envelope.EVENT_ID] == "e-1"  # receivers de-duplicate on it
    assert headers[envelope.REPLAY_JOB] == "j1"
    assert headers[envelope.REPLAY_PIPELINE] == "p1"
    assert headers[envelope.ATTEMPT] == "1"
    assert not {envelope.ERROR_STAGE, envelope.ERROR_TYPE, envelope.FAILED_AT, envelope.ORIGIN_OFFSET} & set(headers)


def test_redeliver_goes_to_the_retry_topic_due_now_for_the_failed_destination() -> None:
    record = dlq_record(
        **{
            envelope.ERROR_STAGE: "deliver",
            envelope.DESTINATION: "d9",
            envelope.ATTEMPT: "9",
            envelope.ORIGIN_TOPIC: "dev.acme.orders.enriched",
        }
    )
    out = replay_record(record, target=REDELIVER, job_id="j2", now_ms=1234)
    headers = dict((k, v.decode()) for k, v in out.headers)
    assert out.topic == "dev.acme.orders.retry"
    assert headers[envelope.DUE_AT] == "1234"
    assert headers[envelope.DESTINATION] == "d9"
    assert headers[envelope.ATTEMPT] == "9"  # a new failure goes back to the DLQ with 10


def test_a_record_cannot_go_where_it_does_not_belong() -> None:
    with pytest.raises(NotReplayable, match="deliver stage"):
        replay_record(dlq_record(), target=REDELIVER, job_id="j", now_ms=0)
    delivered = dlq_record(**{envelope.ERROR_STAGE: "deliver", envelope.ORIGIN_TOPIC: "dev.acme.orders.enriched"})
    with pytest.raises(NotReplayable, match="failed before delivery"):
        replay_record(delivered, target=RETRANSFORM, job_id="j", now_ms=0)


def test_commands_and_progress_round_trip_and_bad_commands_are_refused() -> None:
    command = ReplayCommand(
        job_id="j",
        action="run",
        dlq_topic="t",
        target=REDELIVER,
        end_offsets={0: 5, 1: 7},
        filter=ReplayFilter(stages=("deliver",), from_offsets={0: 2}),
        live_lag_limit=50,
    )
    assert ReplayCommand.from_json(command.to_json()) == command
    progress = ReplayProgress("j", matched=2, next_offsets={1: 3})
    assert ReplayProgress.from_json(progress.to_json()) == progress
    with pytest.raises(InvalidSpec, match="target"):
        ReplayCommand.from_json(command.to_json().replace(b'"redeliver"', b'"elsewhere"'))
    with pytest.raises(InvalidSpec):
        ReplayCommand.from_json(b"[]")


def test_a_replayed_record_makes_room_in_every_live_group_it_will_queue_in() -> None:
    spec = build_pipeline_spec(
        env="dev",
        id="p1",
        workspace="acme",
        name="p1",
        revision=3,
        state="active",
        source_stream="orders",
        target_stream="orders",
        mapping="$",
        destinations=[
            HttpDestinationSpec(id="d1", url="https://a.example"),
            HttpDestinationSpec(id="d2", url="https://b.example"),
        ],
    )
    assert live_lanes(dlq_record(), target=RETRANSFORM, env="dev", spec=spec) == [
        ("switchyard-dev-transform-p1", "dev.acme.orders.raw"),
        ("switchyard-dev-deliver-p1-d1", spec.target_topic),
        ("switchyard-dev-deliver-p1-d2", spec.target_topic),
    ]
    # A pipeline this worker does not know (deleted since): only the group the record joins.
    assert live_lanes(dlq_record(), target=RETRANSFORM, env="dev", spec=None) == [
        ("switchyard-dev-transform-p1", "dev.acme.orders.raw")
    ]
    delivered = dlq_record(
        **{
            envelope.ERROR_STAGE: "deliver",
            envelope.DESTINATION: "d9",
            envelope.ORIGIN_TOPIC: "dev.acme.orders.enriched",
        }
    )
    assert live_lanes(delivered, target=REDELIVER, env="dev", spec=spec) == [
        ("switchyard-dev-deliver-p1-d9", "dev.acme.orders.enriched")
    ]
    assert live_lanes(dlq_record(), target=REDELIVER, env="dev", spec=spec) == []  # no destination header
