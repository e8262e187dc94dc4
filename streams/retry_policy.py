"""When to retry a failed delivery: a per-destination schedule, jittered, never sooner than Retry-After.

Jitter spreads the retries of many events that failed together, so a recovering destination is
not hit by all of them at the same instant.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

_RNG = random.Random()


def next_delay_s(
    schedule_s: Sequence[float],
    attempt: int,
    *,
    retry_after_s: float | None = None,
    jitter: float = 0.2,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds until the next attempt after `attempt` attempts (1 after the first failure); None when exhausted (DLQ).

    The delay is schedule_s[attempt - 1] times a uniform factor in [1 - jitter, 1 + jitter], raised to
    the destination's Retry-After, which is capped at the largest scheduled delay so a destination
    cannot park an event for longer than its schedule allows.
    """
    if attempt < 1:
        raise ValueError(f"attempt counts the attempts already made and is at least 1, not {attempt}")
    if not 0 <= jitter <= 1:
        raise ValueError(f"jitter is a fraction between 0 and 1, not {jitter}")
    if attempt > len(schedule_s):
        return None
    base = schedule_s[attempt - 1]
    delay = base * (rng or _RNG).uniform(1 - jitter, 1 + jitter) if jitter else float(base)
    if retry_after_s is not None:
        delay = max(delay, min(max(retry_after_s, 0.0), max(schedule_s)))
    return max(0.0, delay)
