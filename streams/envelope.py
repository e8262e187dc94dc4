"""The event envelope: the value is the event's JSON as received; metadata travels in Kafka headers."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from uuid6 import uuid7

Headers = list[tuple[str, bytes]]

EVENT_ID = "sy-event-id"
CORRELATION_ID = "sy-correlation-id"
RECEIVED_AT = "sy-received-at"
SOURCE = "sy-source"
PIPELINE = "sy-pipeline"
PIPELINE_REVISION = "sy-pipeline-revision"
ATTEMPT = "sy-attempt"
MAPPING_VERSION = "sy-mapping-version"
INPUT_SCHEMA = "sy-input-schema"  # "<schema id>:<version>"
OUTPUT_SCHEMA = "sy-output-schema"
DESTINATION = "sy-destination"
DUE_AT = "sy-due-at"  # retry records: when the next attempt is due, ms since epoch
LAST_ERROR = "sy-last-error"
REPLAY_JOB = "sy-replay-job"
REPLAY_PIPELINE = "sy-replay-pipeline"  # a re-transform replay is meant for this pipeline only

# Added to a DLQ record, on top of the original headers.
ERROR_STAGE = "sy-error-stage"
ERROR_TYPE = "sy-error-type"
ERROR_MESSAGE = "sy-error-message"
ERROR_POINTER = "sy-error-pointer"
FAILED_AT = "sy-failed-at"
ORIGIN_TOPIC = "sy-origin-topic"
ORIGIN_PARTITION = "sy-origin-partition"
ORIGIN_OFFSET = "sy-origin-offset"


def new_event_id() -> str:
    """A UUIDv7: sortable by creation time, unique without coordination."""
    return str(uuid7())


def new_correlation_id() -> str:
    return str(uuid.uuid4())


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ingest_headers(*, event_id: str, correlation_id: str, source: str) -> Headers:
    return [
        (EVENT_ID, event_id.encode()),
        (CORRELATION_ID, correlation_id.encode()),
        (RECEIVED_AT, now_iso().encode()),
        (SOURCE, source.encode()),
    ]


def header(headers: Sequence[tuple[str, bytes]] | None, name: str) -> str | None:
    """The last value of header `name`, decoded, or None."""
    value = None
    for key, raw in headers or ():
        if key == name and raw is not None:
            value = raw.decode("utf-8", errors="replace")
    return value


def replace_headers(headers: Iterable[tuple[str, bytes]] | None, updates: Mapping[str, str]) -> Headers:
    """Headers with `updates` set (replacing any earlier value of the same names), order kept."""
    kept = [(k, v) for k, v in (headers or ()) if k not in updates]
    return kept + [(k, v.encode()) for k, v in updates.items()]
