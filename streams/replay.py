"""Replay, the pure part: which DLQ records a job selects, and what each becomes when replayed.

Shared by the control plane (selection counts and the dry run) and the worker's replay stage.
A job is a command on `<env>._switchyard.replay-commands` (key = job id); its progress comes back
on `<env>._switchyard.replay-progress`. The end offsets are fixed in the command when the job is
created, so a job never reads its own output and always ends.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from streams import envelope
from streams.exceptions import InvalidSpec
from streams.spec import PipelineSpec
from streams.topics import delivery_group, transform_group
from streams.transform import Outgoing, Record

RETRANSFORM = "retransform"  # back to the raw topic, through the pipeline's current active revision
REDELIVER = "redeliver"  # straight to the failed destination again (deliver-stage failures only)
TARGETS = (RETRANSFORM, REDELIVER)

# Headers a DLQ record carries about its failure; a replayed record starts without them.
_FAILURE_HEADERS = (
    envelope.ERROR_STAGE,
    envelope.ERROR_TYPE,
    envelope.ERROR_MESSAGE,
    envelope.ERROR_POINTER,
    envelope.FAILED_AT,
    envelope.ORIGIN_TOPIC,
    envelope.ORIGIN_PARTITION,
    envelope.ORIGIN_OFFSET,
    envelope.LAST_ERROR,
    envelope.DUE_AT,
)


@dataclass(frozen=True)
class ReplayFilter:
    """Empty lists and None bounds select everything."""

    since_ms: int | None = None
    until_ms: int | None = None
    stages: tuple[str, ...] = ()
    error_types: tuple[str, ...] = ()
    pipelines: tuple[str, ...] = ()
    revisions: tuple[int, ...] = ()
    event_ids: tuple[str, ...] = ()
    # Per DLQ partition, the first offset selected: a re-run starts where its first job's end offsets were.
    from_offsets: dict[int, int] = field(default_factory=dict)

    def matches(self, record: Record) -> bool:
        def h(name: str) -> str | None:
            return envelope.header(record.headers, name)

        if record.offset < self.from_offsets.get(record.partition, 0):
            return False
        failed_ms = failed_at_ms(record)
        if self.since_ms is not None and failed_ms < self.since_ms:
            return False
        if self.until_ms is not None and failed_ms >= self.until_ms:
            return False
        revision = h(envelope.PIPELINE_REVISION)
        checks = (
            (self.stages, h(envelope.ERROR_STAGE)),
            (self.error_types, h(envelope.ERROR_TYPE)),
            (self.pipelines, h(envelope.PIPELINE)),
            (self.event_ids, h(envelope.EVENT_ID)),
            (self.revisions, int(revision) if revision and revision.isdigit() else None),
        )
        return all(not wanted or value in wanted for wanted, value in checks)


def failed_at_ms(record: Record) -> int:
    value = envelope.header(record.headers, envelope.FAILED_AT)
    if value:
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            pass
    return record.timestamp_ms or 0


@dataclass(frozen=True)
class ReplayCommand:
    job_id: str
    action: str  # "run" | "cancel"
    dlq_topic: str
    target: str
    end_offsets: dict[int, int]
    filter: ReplayFilter = field(default_factory=ReplayFilter)
    rate_per_s: float = 100.0
    # The job waits while the live consumer group it feeds is more than this many records behind, so live
    # events never queue behind more than about this many replayed ones.
    live_lag_limit: int = 200

    def to_json(self) -> bytes:
        doc = asdict(self)
        doc["end_offsets"] = {str(p): o for p, o in self.end_offsets.items()}
        doc["filter"]["from_offsets"] = {str(p): o for p, o in self.filter.from_offsets.items()}
        return json.dumps(doc, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> ReplayCommand:
        try:
            doc: dict[str, Any] = json.loads(raw)
            doc["end_offsets"] = {int(p): int(o) for p, o in doc["end_offsets"].items()}
            f = doc.get("filter") or {}
            f["from_offsets"] = {int(p): int(o) for p, o in (f.get("from_offsets") or {}).items()}
            doc["filter"] = ReplayFilter(**{k: tuple(v) if isinstance(v, list) else v for k, v in f.items()})
            command = cls(**doc)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidSpec(f"replay command does not parse: {exc}") from exc
        if command.target not in TARGETS:
            raise InvalidSpec(f"replay target must be one of {TARGETS}, not {command.target!r}")
        return command


@dataclass
class ReplayProgress:
    job_id: str
    state: str = "running"  # running | completed | cancelled | failed
    matched: int = 0
    replayed: int = 0
    skipped: int = 0  # matched but not replayable (e.g. re-deliver of a transform failure)
    failed: int = 0
    next_offsets: dict[int, int] = field(default_factory=dict)
    message: str = ""
    worker: str = ""
    updated_at: float = 0.0

    TERMINAL = ("completed", "cancelled", "failed")

    @property
    def finished(self) -> bool:
        return self.state in self.TERMINAL

    def to_json(self) -> bytes:
        doc = asdict(self)
        doc["next_offsets"] = {str(p): o for p, o in self.next_offsets.items()}
        return json.dumps(doc, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> ReplayProgress:
        doc = json.loads(raw)
        doc["next_offsets"] = {int(p): int(o) for p, o in doc.get("next_offsets", {}).items()}
        return cls(**doc)


class NotReplayable(ValueError):
    """The record cannot go to the requested target (the reason is the message)."""


def replay_record(record: Record, *, target: str, job_id: str, now_ms: int) -> Outgoing:
    """The record to produce for one selected DLQ record: same value, key and event id."""
    origin = envelope.header(record.headers, envelope.ORIGIN_TOPIC)
    stage = envelope.header(record.headers, envelope.ERROR_STAGE)
    attempts = envelope.header(record.headers, envelope.ATTEMPT)
    if not origin:
        raise NotReplayable("the record has no origin topic header")
    base = [(k, v) for k, v in record.headers if k not in _FAILURE_HEADERS]
    updates = {envelope.REPLAY_JOB: job_id, envelope.ATTEMPT: attempts or "1"}
    if target == RETRANSFORM:
        if not origin.endswith(".raw"):
            raise NotReplayable(f"re-transform needs a record that failed before delivery (origin {origin})")
        # Only the pipeline that failed takes it again; others on the same stream already did.
        updates[envelope.REPLAY_PIPELINE] = envelope.header(record.headers, envelope.PIPELINE) or ""
        return Outgoing(
            topic=origin, key=record.key, value=record.value or b"", headers=envelope.replace_headers(base, updates)
        )
    if target == REDELIVER:
        if stage != "deliver" or not envelope.header(record.headers, envelope.DESTINATION):
            raise NotReplayable("re-deliver needs a record that failed at the deliver stage")
        retry_topic = origin.rsplit(".", 1)[0] + ".retry"
        updates[envelope.DUE_AT] = str(now_ms)
        updates[envelope.ORIGIN_TOPIC] = origin
        return Outgoing(
            topic=retry_topic,
            key=record.key,
            value=record.value or b"",
            headers=envelope.replace_headers(base, updates),
        )
    raise NotReplayable(f"unknown target {target!r}")


Lane = tuple[str, str]  # (consumer group, topic)


def live_lanes(record: Record, *, target: str, env: str, spec: PipelineSpec | None) -> list[Lane]:
    """The live consumer groups, each with its topic, that a replayed record will queue in (first the one it joins).

    A re-transformed record joins the raw topic ahead of the failed pipeline's transform group, and after the
    transform it queues ahead of the pipeline's delivery groups (the usual bottleneck: HTTP is slower than the
    transform). A re-delivered one shares its destination with that destination's live delivery group.
    """
    origin = envelope.header(record.headers, envelope.ORIGIN_TOPIC)
    pipeline = envelope.header(record.headers, envelope.PIPELINE)
    if not origin or not pipeline:
        return []
    if target == RETRANSFORM:
        downstream = (
            [(delivery_group(env, pipeline, d.id), spec.target_topic) for d in spec.destinations] if spec else []
        )
        return [(transform_group(env, pipeline), origin), *downstream]
    destination = envelope.header(record.headers, envelope.DESTINATION)
    return [(delivery_group(env, pipeline, destination), origin)] if destination else []
