"""Lag from committed offsets, and its cache (the admin calls are faked only here, in the pure part)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from aiokafka import TopicPartition

from streams.group_lag import GroupLag, lag_of

A0, A1, B0 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)


def test_lag_sums_what_is_behind_each_committed_offset() -> None:
    assert lag_of({A0: 3, A1: 10}, {A0: 8, A1: 10}) == 5
    assert lag_of({A0: 12}, {A0: 10}) == 0  # an end read before the commit: never negative
    assert lag_of({A0: -1}, {A0: 10}) == 0  # no committed offset yet
    assert lag_of({}, {}) == 0


class FakeAdmin:
    def __init__(self) -> None:
        self.calls = 0
        self.committed = {A0: SimpleNamespace(offset=2), B0: SimpleNamespace(offset=0)}

    async def list_consumer_group_offsets(self, group: str) -> dict:  # type: ignore[type-arg]
        self.calls += 1
        return self.committed


class FakeReader:
    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: 9 for tp in partitions}


def test_only_the_topic_asked_about_counts_and_answers_are_cached_for_a_moment() -> None:
    now = [0.0]
    admin = FakeAdmin()
    lag = GroupLag(admin=admin, offsets_reader=FakeReader(), max_age_s=1.0, clock=lambda: now[0])  # type: ignore[arg-type]

    async def scenario() -> list[int]:
        first = await lag.lag("g", "a")
        admin.committed[A0] = SimpleNamespace(offset=9)
        cached = await lag.lag("g", "a")
        lag.produced("g", "a", 2)  # our own output counts before the next measurement sees it
        estimated = await lag.lag("g", "a")
        now[0] = 1.5
        fresh = await lag.lag("g", "a")
        return [first, cached, estimated, fresh]

    assert asyncio.run(scenario()) == [7, 7, 9, 0]
    assert admin.calls == 2


def test_an_unreadable_lag_does_not_block_a_replay() -> None:
    class Broken(FakeAdmin):
        async def list_consumer_group_offsets(self, group: str) -> dict:  # type: ignore[type-arg]
            raise ConnectionError("no broker")

    lag = GroupLag(admin=Broken(), offsets_reader=FakeReader())  # type: ignore[arg-type]
    assert asyncio.run(lag.lag("g", "a")) == 0
