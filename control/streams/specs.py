"""Compile a stream into the SourceSpec the ingest workers run (pure apart from reading its keys)."""

from __future__ import annotations

from django.conf import settings

from control.streams.models import Stream
from control.streams.selectors import ingest_keys_for_stream
from streams.spec import IngestKeySpec, SignatureSpec, SourceSpec, build_source_spec


def stream_source_spec(stream: Stream) -> SourceSpec:
    return build_source_spec(
        env=settings.SWITCHYARD_ENV,
        workspace=stream.workspace.slug,
        stream=stream.name,
        key_path=stream.key_path or None,
        ingest_keys=tuple(
            IngestKeySpec(id=str(key.pk), sha256=key.sha256, prefix=key.prefix)
            for key in ingest_keys_for_stream(stream=stream)
        ),
        signature=SignatureSpec(
            type=stream.signature_type, secret_enc=stream.signature_secret_enc, header=stream.signature_header
        ),
    )
