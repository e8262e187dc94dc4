"""Workers' `ingest_keys` reports move each ingest key's last_used_at forward, never back."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from control.monitoring.services import status_record_apply
from control.streams.services import ingest_key_create

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def _report(worker: str, ingest_keys: dict[str, object]) -> None:
    value = {"worker": worker, "at": time.time(), "pipelines": {}, "destinations": [], "ingest_keys": ingest_keys}
    status_record_apply(key=f"worker:{worker}".encode(), value=json.dumps(value).encode())


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def test_last_used_at_moves_forward_not_back_and_unknown_ids_are_ignored(world, team) -> None:  # type: ignore[no-untyped-def]
    key = world.ingest_key
    idle, _ = ingest_key_create(workspace=team.workspace, name="idle", actor=team.owner)
    assert key.last_used_at is None
    now = time.time()

    _report("w1", {str(key.pk): now - 60})
    key.refresh_from_db()
    assert key.last_used_at == _at(now - 60)

    _report("w2", {str(key.pk): now - 30})
    key.refresh_from_db()
    assert key.last_used_at == _at(now - 30)

    _report("w1", {str(key.pk): now - 45})  # a slower worker's older report does not move it back
    key.refresh_from_db()
    assert key.last_used_at == _at(now - 30)

    unknown = {str(idle.pk + 1000): now, "anonymous": now, "-1": now, "99999999999999999999": now, "": now}
    _report("w1", {**unknown, str(key.pk): "not a time"})
    key.refresh_from_db()
    idle.refresh_from_db()
    assert key.last_used_at == _at(now - 30)
    assert idle.last_used_at is None


def test_a_use_reported_in_the_future_is_taken_as_now(world) -> None:  # type: ignore[no-untyped-def]
    key = world.ingest_key
    _report("w1", {str(key.pk): time.time() + 3600})  # a worker whose clock runs an hour ahead
    key.refresh_from_db()
    assert key.last_used_at is not None and key.last_used_at <= datetime.now(UTC)
