"""Idempotency-Key: the first answer to a key is remembered, and a retried request gets it again.

A client that timed out does not know whether its events were stored; resending with the same key
must not store them twice. Answers live in memory here and are shared between workers (and kept
across restarts) through a compacted Kafka topic whose records are fed back in with `apply_record`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: dict[str, Any]
    stored_at: float

    def to_json(self) -> bytes:
        return json.dumps(
            {"status": self.status, "body": self.body, "stored_at": self.stored_at}, separators=(",", ":")
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> StoredAnswer:
        """The answer in `raw`; ValueError when it is not one (records come from a topic anybody could write to)."""
        doc = json.loads(raw)
        if not isinstance(doc, dict):
            raise ValueError("a stored answer is a JSON object")
        status, body, stored_at = doc.get("status"), doc.get("body"), doc.get("stored_at")
        if not isinstance(status, int) or isinstance(status, bool):
            raise ValueError("a stored answer's status is an integer")
        if not isinstance(body, dict):
            raise ValueError("a stored answer's body is a JSON object")
        if not isinstance(stored_at, int | float) or isinstance(stored_at, bool) or not math.isfinite(stored_at):
            raise ValueError("a stored answer's stored_at is a finite number")
        return cls(status=status, body=body, stored_at=float(stored_at))


class IdempotencyStore:
    """Answers by scoped key, each valid for `window_s` after it was stored; the first one for a key wins."""

    def __init__(
        self, *, window_s: float = 86400, clock: Callable[[], float] = time.time, max_entries: int = 1_000_000
    ) -> None:
        if window_s <= 0:
            raise ValueError(f"window_s must be positive, not {window_s}")
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, not {max_entries}")
        self._window_s = window_s
        self._clock = clock
        self._max_entries = max_entries
        self._answers: dict[str, StoredAnswer] = {}  # insertion order = oldest first, for eviction
        # A lock lives as long as somebody holds or waits on it, then drops out of the map by itself.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def __len__(self) -> int:
        return len(self._answers)

    @staticmethod
    def scoped_key(workspace: str, stream: str, key: str) -> str:
        """<ws>/<stream>/<sha256 hex of key>: hashed, so any client string is a safe, bounded Kafka key."""
        return f"{workspace}/{stream}/{hashlib.sha256(key.encode()).hexdigest()}"

    def get(self, scoped: str) -> StoredAnswer | None:
        answer = self._answers.get(scoped)
        if answer is None or self._expired(answer):
            return None
        return answer

    def put(self, scoped: str, answer: StoredAnswer) -> None:
        """Remember `answer` unless an unexpired answer is already there (a retry must see the first answer)."""
        if self._expired(answer):
            return
        if self.get(scoped) is not None:
            return
        self._answers.pop(scoped, None)  # re-inserted at the end, as the newest
        self._answers[scoped] = answer
        if len(self._answers) > self._max_entries:
            self.expire()
            while len(self._answers) > self._max_entries:
                del self._answers[next(iter(self._answers))]

    def apply_record(self, key: bytes | None, value: bytes | None) -> None:
        """Apply a record read back from the idempotency topic: a tombstone removes, anything unreadable is ignored."""
        if key is None:
            return
        try:
            scoped = key.decode()
        except UnicodeDecodeError:
            return
        if value is None:
            self._answers.pop(scoped, None)
            return
        try:
            answer = StoredAnswer.from_json(value)
        except (ValueError, UnicodeDecodeError):
            return
        self.put(scoped, answer)

    def lock(self, scoped: str) -> asyncio.Lock:
        """The lock of `scoped`, so two concurrent requests with one key in this process run one after the other."""
        lock = self._locks.get(scoped)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[scoped] = lock
        return lock

    def expire(self) -> int:
        """Drop the answers older than the window; how many were dropped."""
        stale = [scoped for scoped, answer in self._answers.items() if self._expired(answer)]
        for scoped in stale:
            del self._answers[scoped]
        return len(stale)

    def _expired(self, answer: StoredAnswer) -> bool:
        return self._clock() - answer.stored_at > self._window_s
