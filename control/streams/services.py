"""Writes for streams and ingest keys. Topics are provisioned before the row exists; specs go via the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone

from control.audit.services import audit_record, snapshot
from control.core.exceptions import Conflict, ValidationError
from control.core.kafka import DAY_MS, TopicSpec, topics_ensure
from control.core.services import model_assign
from control.core.validation import full_clean
from control.outbox.services import outbox_enqueue
from control.streams.choices import SignatureType
from control.streams.models import IngestKey, Stream
from control.streams.specs import stream_source_spec
from control.workspaces.models import Workspace
from streams.secrets import encrypt, hash_ingest_key, ingest_key_prefix, new_ingest_key
from streams.spec import dump_spec, source_key
from streams.topics import Variant, topic_name

STREAM_FIELDS = (
    "name",
    "description",
    "partitions",
    "key_path",
    "retention_raw_days",
    "retention_enriched_days",
    "retention_retry_days",
    "retention_dlq_days",
    "signature_type",
    "signature_secret_enc",
    "signature_header",
)
STREAM_UPDATABLE = ("description", "key_path", "signature_type", "signature_header")
INGEST_KEY_FIELDS = ("name", "stream", "prefix", "revoked_at")


def stream_topics(stream: Stream) -> list[TopicSpec]:
    retention = {
        Variant.RAW: stream.retention_raw_days,
        Variant.ENRICHED: stream.retention_enriched_days,
        Variant.RETRY: stream.retention_retry_days,
        Variant.DLQ: stream.retention_dlq_days,
    }
    return [
        TopicSpec(
            topic_name(env=settings.SWITCHYARD_ENV, workspace=stream.workspace.slug, stream=stream.name, variant=v),
            partitions=stream.partitions,
            config={"retention.ms": str(retention[v] * DAY_MS)},
        )
        for v in Variant
    ]


def _check_stream(stream: Stream) -> None:
    full_clean(stream, exclude=["workspace"])
    longest = max(stream.retention_raw_days, stream.retention_enriched_days, stream.retention_retry_days)
    if stream.retention_dlq_days < longest:
        raise ValidationError(
            f"the DLQ must keep events at least as long as the other topics ({longest} days)",
            details={"retention_dlq_days": [f"Must be at least {longest} days."]},
        )
    if stream.signature_type != SignatureType.NONE and not stream.signature_secret_enc:
        raise ValidationError(
            f"signature type {stream.signature_type} needs a signature secret",
            details={"signature_secret": ["Required when a signature type is set."]},
        )


def source_spec_publish(stream: Stream) -> None:
    """Queue the stream's current source spec (call inside the transaction that changed it)."""
    spec = stream_source_spec(stream)
    outbox_enqueue(key=spec.key, value=dump_spec(spec))


def stream_create(
    *,
    workspace: Workspace,
    name: str,
    partitions: int = 3,
    actor: Any = None,
    signature_secret: str = "",
    **options: Any,
) -> Stream:
    """Provision the four topics (idempotently), then save the stream and queue its source spec.

    `options`: description, key_path, retention_*_days, signature_type, signature_header.
    """
    if Stream.objects.filter(workspace=workspace, name=name).exists():
        raise Conflict(f"stream {name!r} already exists in {workspace.slug}", details={"name": ["Already exists."]})
    stream = Stream(workspace=workspace, name=name, partitions=partitions, **options)
    stream.signature_secret_enc = encrypt(signature_secret)
    _check_stream(stream)
    # Topics first: if Kafka is unreachable this raises KafkaUnavailable and nothing is saved.
    topics_ensure(stream_topics(stream))
    with transaction.atomic():
        stream.save()
        audit_record(
            actor=actor,
            workspace=workspace,
            action="stream.create",
            obj=stream,
            after=snapshot(stream, STREAM_FIELDS),
        )
        source_spec_publish(stream)
    return stream


def stream_get_or_create(
    *, workspace: Workspace, name: str, partitions: int = 3, actor: Any = None
) -> tuple[Stream, bool]:
    existing = Stream.objects.filter(workspace=workspace, name=name).first()
    if existing is not None:
        return existing, False
    return stream_create(workspace=workspace, name=name, partitions=partitions, actor=actor), True


def stream_update(*, stream: Stream, actor: Any, data: dict[str, Any], signature_secret: str | None = None) -> Stream:
    """Change what can change after creation (name, partitions and retention are fixed with the topics)."""
    before = snapshot(stream, STREAM_FIELDS)
    model_assign(instance=stream, fields=STREAM_UPDATABLE, data=data)
    if signature_secret is not None:
        stream.signature_secret_enc = encrypt(signature_secret)
    _check_stream(stream)
    with transaction.atomic():
        stream.save()
        audit_record(
            actor=actor,
            workspace=stream.workspace,
            action="stream.update",
            obj=stream,
            before=before,
            after=snapshot(stream, STREAM_FIELDS),
            replaced_secrets=["signature_secret_enc"] if signature_secret else [],
        )
        source_spec_publish(stream)
    return stream


def stream_delete(*, stream: Stream, actor: Any) -> None:
    """Remove the stream from the control plane and the workers; its topics (and their data) stay in Kafka."""
    try:
        with transaction.atomic():
            audit_record(
                actor=actor,
                workspace=stream.workspace,
                action="stream.delete",
                obj=stream,
                before=snapshot(stream, STREAM_FIELDS),
            )
            outbox_enqueue(key=source_key(stream.workspace.slug, stream.name), value=None)
            stream.delete()
    except ProtectedError as exc:
        raise Conflict(
            f"stream {stream} is used by pipelines; delete or change them first",
            details={"pipelines": sorted({str(p) for p in exc.protected_objects})},
        ) from exc


def source_specs_republish() -> int:
    streams = Stream.objects.select_related("workspace")
    with transaction.atomic():
        for stream in streams:
            source_spec_publish(stream)
    return len(streams)


def _republish_for_key(key: IngestKey) -> None:
    streams = [key.stream] if key.stream_id else list(Stream.objects.filter(workspace=key.workspace))
    for stream in streams:
        source_spec_publish(stream)


def ingest_key_create(
    *, workspace: Workspace, name: str, stream: Stream | None = None, actor: Any = None
) -> tuple[IngestKey, str]:
    """Returns the key and its plain value, which is never stored: show it once."""
    if stream is not None and stream.workspace_id != workspace.pk:
        raise ValidationError("the stream belongs to another workspace", details={"stream": ["Not found."]})
    plain = new_ingest_key()
    key = IngestKey(
        workspace=workspace,
        stream=stream,
        name=name,
        prefix=ingest_key_prefix(plain),
        sha256=hash_ingest_key(plain),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    full_clean(key, exclude=["workspace", "stream", "created_by"])
    with transaction.atomic():
        key.save()
        audit_record(
            actor=actor,
            workspace=workspace,
            action="ingest_key.create",
            obj=key,
            after=snapshot(key, INGEST_KEY_FIELDS),
        )
        _republish_for_key(key)
    return key, plain


def ingest_key_revoke(*, key: IngestKey, actor: Any) -> IngestKey:
    if key.revoked_at is not None:
        return key
    before = snapshot(key, INGEST_KEY_FIELDS)
    key.revoked_at = timezone.now()
    with transaction.atomic():
        key.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            workspace=key.workspace,
            action="ingest_key.revoke",
            obj=key,
            before=before,
            after=snapshot(key, INGEST_KEY_FIELDS),
        )
        _republish_for_key(key)
    return key


def ingest_key_touch(*, key_id: str, used_at: datetime) -> bool:
    """Move a key's last_used_at forward to `used_at`, never back (from the workers' usage reports).

    `key_id` is the id the source spec gives the key (specs.py: its pk as a string); an id that names no key
    is ignored. Not audited: it is not a change. Returns whether a row moved.
    """
    if not (key_id.isascii() and key_id.isdigit() and 0 < int(key_id) < 2**63):
        return False
    recent = Q(last_used_at__isnull=True) | Q(last_used_at__lt=used_at)
    return IngestKey.objects.filter(recent, pk=int(key_id)).update(last_used_at=used_at) > 0
