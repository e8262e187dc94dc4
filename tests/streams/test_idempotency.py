"""The idempotency store: first answer wins, answers expire, Kafka records are applied, keys are locked."""

from __future__ import annotations

import asyncio
import gc
import hashlib

import pytest

from streams.idempotency import IdempotencyStore, StoredAnswer


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def answer(status: int = 202, *, at: float = 1_700_000_000.0, event_id: str = "ev-1") -> StoredAnswer:
    return StoredAnswer(status=status, body={"event_id": event_id, "event_ids": [event_id]}, stored_at=at)


# --- StoredAnswer -----------------------------------------------------------------------------


def test_stored_answer_round_trips_through_json() -> None:
    original = StoredAnswer(status=202, body={"event_ids": ["a", "b"], "nested": {"x": None}}, stored_at=12.5)
    assert StoredAnswer.from_json(original.to_json()) == original


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        b'{"status": "202", "body": {}, "stored_at": 1}',
        b'{"status": true, "body": {}, "stored_at": 1}',
        b'{"status": 202, "body": [], "stored_at": 1}',
        b'{"status": 202, "body": {}}',
        b'{"status": 202, "body": {}, "stored_at": "now"}',
        b'{"status": 202, "body": {}, "stored_at": NaN}',
    ],
)
def test_from_json_refuses_what_is_not_an_answer(raw: bytes) -> None:
    with pytest.raises(ValueError):
        StoredAnswer.from_json(raw)


# --- scoped keys ------------------------------------------------------------------------------


def test_scoped_key_hashes_the_client_key() -> None:
    key = "any/thing \u00e9\n" * 50
    scoped = IdempotencyStore.scoped_key("acme", "orders", key)
    assert scoped == "acme/orders/" + hashlib.sha256(key.encode()).hexdigest()


def test_scoped_keys_differ_by_workspace_stream_and_key() -> None:
    keys = {
        IdempotencyStore.scoped_key("acme", "orders", "k"),
        IdempotencyStore.scoped_key("other", "orders", "k"),
        IdempotencyStore.scoped_key("acme", "refunds", "k"),
        IdempotencyStore.scoped_key("acme", "orders", "k2"),
    }
    assert len(keys) == 4


# --- get / put / expire -----------------------------------------------------------------------


def test_get_of_an_unknown_key_is_none() -> None:
    assert IdempotencyStore(clock=FakeClock()).get("acme/orders/x") is None


def test_put_then_get() -> None:
    clock = FakeClock()
    store = IdempotencyStore(clock=clock)
    store.put("k", answer(at=clock.now))
    assert store.get("k") == answer(at=clock.now)


def test_the_first_answer_is_kept() -> None:
    clock = FakeClock()
    store = IdempotencyStore(clock=clock)
    store.put("k", answer(202, at=clock.now, event_id="first"))
    store.put("k", answer(503, at=clock.now, event_id="second"))
    stored = store.get("k")
    assert stored is not None
    assert stored.body["event_id"] == "first"


def test_an_answer_expires_after_the_window() -> None:
    clock = FakeClock()
    store = IdempotencyStore(window_s=60, clock=clock)
    store.put("k", answer(at=clock.now))
    clock.now += 60
    assert store.get("k") is not None  # exactly the window: still valid
    clock.now += 0.001
    assert store.get("k") is None


def test_an_expired_answer_is_replaced() -> None:
    clock = FakeClock()
    store = IdempotencyStore(window_s=60, clock=clock)
    store.put("k", answer(at=clock.now, event_id="old"))
    clock.now += 61
    store.put("k", answer(at=clock.now, event_id="new"))
    stored = store.get("k")
    assert stored is not None
    assert stored.body["event_id"] == "new"


def test_an_answer_already_past_the_window_is_not_stored() -> None:
    clock = FakeClock()
    store = IdempotencyStore(window_s=60, clock=clock)
    store.put("k", answer(at=clock.now - 61))
    assert len(store) == 0


def test_expire_drops_old_entries_and_counts_them() -> None:
    clock = FakeClock()
    store = IdempotencyStore(window_s=60, clock=clock)
    store.put("old-1", answer(at=clock.now))
    store.put("old-2", answer(at=clock.now + 10))
    clock.now += 65
    store.put("fresh", answer(at=clock.now))
    assert store.expire() == 1
    assert len(store) == 2
    clock.now += 10
    assert store.expire() == 1
    assert store.expire() == 0
    assert store.get("fresh") is not None


def test_oldest_entries_are_evicted_beyond_max_entries() -> None:
    clock = FakeClock()
    store = IdempotencyStore(clock=clock, max_entries=2)
    for key in ("a", "b", "c"):
        store.put(key, answer(at=clock.now))
    assert len(store) == 2
    assert store.get("a") is None
    assert store.get("b") is not None
    assert store.get("c") is not None


def test_eviction_drops_expired_entries_before_live_ones() -> None:
    clock = FakeClock()
    store = IdempotencyStore(window_s=60, clock=clock, max_entries=2)
    store.put("live", answer(at=clock.now))
    store.put("dying", answer(at=clock.now - 59))
    clock.now += 2
    store.put("new", answer(at=clock.now))
    assert store.get("live") is not None
    assert store.get("new") is not None


@pytest.mark.parametrize("kwargs", [{"window_s": 0}, {"max_entries": 0}])
def test_unusable_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        IdempotencyStore(**kwargs)  # type: ignore[arg-type]


# --- records from Kafka -----------------------------------------------------------------------


def test_apply_record_stores_an_answer() -> None:
    clock = FakeClock()
    store = IdempotencyStore(clock=clock)
    store.apply_record(b"acme/orders/abc", answer(at=clock.now).to_json())
    assert store.get("acme/orders/abc") == answer(at=clock.now)


def test_apply_record_keeps_the_first_answer() -> None:
    clock = FakeClock()
    store = IdempotencyStore(clock=clock)
    store.apply_record(b"k", answer(at=clock.now, event_id="first").to_json())
    store.apply_record(b"k", answer(at=clock.now, event_id="second").to_json())
    stored = store.get("k")
    assert stored is not None
    assert stored.body["event_id"] == "first"


def test_a_tombstone_removes() -> None:
    clock = FakeClock()
    store = IdempotencyStore(clock=clock)
    store.put("k", answer(at=clock.now))
    store.apply_record(b"k", None)
    assert store.get("k") is None
    store.apply_record(b"unknown", None)  # a tombstone for nothing is harmless


def test_an_expired_record_is_not_loaded() -> None:
    clock = FakeClock()
    store = IdempotencyStore(window_s=60, clock=clock)
    store.apply_record(b"k", answer(at=clock.now - 3600).to_json())
    assert len(store) == 0


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (None, b'{"status": 202, "body": {}, "stored_at": 1700000000}'),
        (b"\xff\xfe", b'{"status": 202, "body": {}, "stored_at": 1700000000}'),
        (b"k", b"garbage"),
        (b"k", b"\xff\xfe"),
        (b"k", b'{"status": 202}'),
    ],
)
def test_garbage_records_are_ignored(key: bytes | None, value: bytes) -> None:
    clock = FakeClock()
    store = IdempotencyStore(clock=clock)
    store.put("k", answer(at=clock.now))
    store.apply_record(key, value)
    assert len(store) == 1
    assert store.get("k") == answer(at=clock.now)


# --- locks ------------------------------------------------------------------------------------


def test_one_lock_per_key() -> None:
    store = IdempotencyStore(clock=FakeClock())
    lock = store.lock("a")
    assert store.lock("a") is lock
    assert store.lock("b") is not lock


def test_the_lock_serializes_two_requests_with_the_same_key() -> None:
    clock = FakeClock()
    store = IdempotencyStore(clock=clock)
    calls: list[str] = []

    async def request(name: str) -> StoredAnswer:
        # As the ingest path does: look up, else do the work (which yields) and remember the answer.
        async with store.lock("k"):
            previous = store.get("k")
            if previous is not None:
                return previous
            calls.append(name)
            await asyncio.sleep(0.01)
            stored = answer(at=clock.now, event_id=name)
            store.put("k", stored)
            return stored

    async def main() -> list[StoredAnswer]:
        return list(await asyncio.gather(request("first"), request("second")))

    results = asyncio.run(main())
    assert calls == ["first"]  # the second request found the first one's answer
    assert results[0] == results[1]


def test_different_keys_do_not_wait_for_each_other() -> None:
    store = IdempotencyStore(clock=FakeClock())
    order: list[str] = []

    async def hold(key: str, started: asyncio.Event, release: asyncio.Event) -> None:
        async with store.lock(key):
            started.set()
            await release.wait()
            order.append(key)

    async def main() -> None:
        started, release = asyncio.Event(), asyncio.Event()
        holder = asyncio.create_task(hold("a", started, release))
        await started.wait()
        async with store.lock("b"):  # would deadlock if "b" shared "a"'s lock
            order.append("b")
        release.set()
        await holder

    asyncio.run(asyncio.wait_for(main(), timeout=5))
    assert order == ["b", "a"]


def test_unused_locks_leave_the_map() -> None:
    store = IdempotencyStore(clock=FakeClock())

    async def main() -> None:
        for i in range(100):
            async with store.lock(f"k{i}"):
                pass

    asyncio.run(main())
    gc.collect()
    assert len(store._locks) == 0
