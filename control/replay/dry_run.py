"""The dry run: the selection read from Kafka and run through the same code the workers run, producing nothing.

Re-transform: each record becomes what the replay stage would produce (replay_record) and goes through
transform_event with the pipeline's current active revision (its stored spec, parsed as a worker parses it).
Re-deliver: each record is classified: it would go to its destination again (with that destination's health).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Max, Min

from control.dlq.reader import end_offsets, records_scan
from control.dlq.selectors import DlqFilter, dlq_record_list
from control.dlq.services import dlq_topic
from control.pipelines.choices import PipelineState
from control.pipelines.models import Pipeline
from control.pipelines.specs import spec_bytes
from control.streams.models import Stream
from streams import envelope
from streams.exceptions import EventError
from streams.mapping import MappingCache
from streams.replay import RETRANSFORM, NotReplayable, replay_record
from streams.spec import PipelineSpec, parse_spec
from streams.transform import Record, transform_event
from streams.validation import ValidatorCache

SAMPLES = 3
_mappings = MappingCache()
_validators = ValidatorCache()


@dataclass
class _Group:
    count: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, sample: dict[str, Any]) -> None:
        self.count += 1
        if len(self.samples) < SAMPLES:
            self.samples.append(sample)


def _start_offsets(stream: Stream, filters: DlqFilter) -> dict[int, int]:
    """Where to start reading each partition: the first matching indexed record, else past the indexed part.

    The index only narrows the read; what matches is decided on the records themselves, as the worker decides.
    """
    indexed = {
        row["partition"]: row
        for row in dlq_record_list(stream=stream)
        .order_by()
        .values("partition")
        .annotate(first=Min("offset"), last=Max("offset"))
    }
    matching = {
        row["partition"]: row["first"]
        for row in dlq_record_list(stream=stream, filters=filters)
        .order_by()
        .values("partition")
        .annotate(first=Min("offset"))
    }
    starts = {}
    for partition, row in indexed.items():
        starts[partition] = matching.get(partition, row["last"] + 1)
    return starts


def _active_spec(stream: Stream, pipeline_id: str, cache: dict[str, PipelineSpec | str]) -> PipelineSpec | str:
    """The spec the workers run for this pipeline, or why there is none."""
    if pipeline_id not in cache:
        pipeline = (
            Pipeline.objects.filter(workspace_id=stream.workspace_id, pk=pipeline_id)
            .select_related("current_revision")
            .first()
            if pipeline_id.isdigit()
            else None
        )
        if pipeline is None:
            cache[pipeline_id] = "the record's pipeline no longer exists"
        elif pipeline.current_revision is None or pipeline.state != PipelineState.ACTIVE:
            cache[pipeline_id] = f"pipeline {pipeline} is {pipeline.state}: the workers would hold the replayed events"
        else:
            spec = parse_spec(spec_bytes(pipeline.current_revision.spec, state=pipeline.state))
            cache[pipeline_id] = spec if isinstance(spec, PipelineSpec) else "the revision is not a pipeline spec"
    return cache[pipeline_id]


def _ident(record: Record) -> dict[str, Any]:
    return {
        "event_id": envelope.header(record.headers, envelope.EVENT_ID),
        "partition": record.partition,
        "offset": record.offset,
    }


def dry_run_report(
    *, stream: Stream, target: str, filters: DlqFilter, destination_health: dict[str, str], limit: int | None = None
) -> dict[str, Any]:
    limit = limit or settings.REPLAY_DRY_RUN_LIMIT
    topic = dlq_topic(stream)
    ends = end_offsets(topic)
    selection = filters.to_replay_filter()
    passes: dict[str, _Group] = {}
    failures: dict[tuple[str, str], _Group] = {}
    skips: dict[str, _Group] = {}
    specs: dict[str, PipelineSpec | str] = {}
    examined = 0
    now_ms = int(time.time() * 1000)
    truncated = False
    for record in records_scan(topic, starts=_start_offsets(stream, filters), ends=ends):
        if not selection.matches(record):
            continue
        if examined >= limit:
            truncated = True
            break
        examined += 1
        ident = _ident(record)
        try:
            out = replay_record(record, target=target, job_id="dry-run", now_ms=now_ms)
        except NotReplayable as exc:
            skips.setdefault(str(exc), _Group()).add(ident)
            continue
        if target != RETRANSFORM:
            destination = envelope.header(record.headers, envelope.DESTINATION) or ""
            health = destination_health.get(destination, "unknown")
            passes.setdefault(f"destination {destination} ({health})", _Group()).add(ident)
            continue
        spec = _active_spec(stream, envelope.header(record.headers, envelope.PIPELINE) or "", specs)
        if isinstance(spec, str):
            failures.setdefault(("pipeline", "PipelineNotActive"), _Group()).add({**ident, "message": spec})
            continue
        replayed = Record(out.topic, record.partition, record.offset, out.key, out.value, out.headers, now_ms)
        try:
            result = transform_event(spec, replayed, _mappings, _validators)
        except EventError as exc:
            failures.setdefault((exc.stage, exc.error_type), _Group()).add(
                {**ident, "message": str(exc)[:500], "pointer": exc.pointer}
            )
            continue
        passes.setdefault(f"pipeline {spec.id} revision {spec.revision}", _Group()).add(
            {**ident, "output": result.value.decode("utf-8", errors="replace")[:2000]}
        )
    return {
        "target": target,
        "examined": examined,
        "limit": limit,
        "truncated": truncated,
        "end_offsets": {str(p): o for p, o in ends.items()},
        "would_pass": sum(g.count for g in passes.values()),
        "would_fail": sum(g.count for g in failures.values()),
        "skipped": sum(g.count for g in skips.values()),
        "passes": [{"to": k, "count": g.count, "samples": g.samples} for k, g in passes.items()],
        "failures": [
            {"stage": stage, "error_type": error_type, "count": g.count, "samples": g.samples}
            for (stage, error_type), g in sorted(failures.items(), key=lambda kv: -kv[1].count)
        ],
        "skips": [{"reason": k, "count": g.count, "samples": g.samples} for k, g in skips.items()],
    }
