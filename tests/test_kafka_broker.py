"""The broker launcher's pure parts."""

from __future__ import annotations

import base64
import uuid

import pytest

from devkit import kafka_broker


def test_a_cluster_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # 0xf8 as the first byte encodes to "-" first in base64url; the launcher must draw again.
    dash_first = uuid.UUID(bytes=bytes([0xF8]) + bytes(15))
    draws = iter([dash_first, uuid.UUID(int=1)])
    monkeypatch.setattr(kafka_broker.uuid, "uuid4", lambda: next(draws))
    assert base64.urlsafe_b64encode(dash_first.bytes).decode().startswith("-")
    cluster_id = kafka_broker._cluster_id()
    assert not cluster_id.startswith("-")
    assert len(cluster_id) == 22  # 16 bytes, base64url, no padding: what `kafka-storage random-uuid` prints
