"""JSON log lines carry the event context; undelivered ages combine delivery and retry."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest

from streams.observability import (
    CONSUMER_LAG,
    DLQ_EVENTS,
    EVENTS,
    OLDEST_UNDELIVERED,
    UndeliveredAges,
    json_logging_config,
    log_context,
    metrics_allowed,
    pipeline_snapshot,
)


def test_log_lines_are_json_with_the_event_context() -> None:
    stream = io.StringIO()
    config = json_logging_config("INFO")
    config["handlers"]["stderr"]["stream"] = stream
    config["root"] = {"handlers": [], "level": "INFO"}
    config["loggers"] = {"switchyard.test": {"handlers": ["stderr"], "level": "INFO", "propagate": False}}
    logging.config.dictConfig(config)
    logger = logging.getLogger("switchyard.test")
    with log_context(correlation_id="c-1", pipeline="p"), log_context(offset=7):
        logger.info("inside")
    logger.info("outside")
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["message"] == "inside"
    assert (inside["correlation_id"], inside["pipeline"], inside["offset"]) == ("c-1", "p", 7)
    assert inside["level"] == "INFO" and inside["logger"] == "switchyard.test"
    assert "correlation_id" not in outside


def test_undelivered_age_is_the_oldest_of_all_sources() -> None:
    ages = UndeliveredAges()
    ages.set("p1", "deliver:d1", 100.0)
    ages.replace("retry", {"p1": 40.0, "p2": 90.0})
    assert ages.publish(now_s=130.0) == {"p1": 90.0, "p2": 40.0}
    assert OLDEST_UNDELIVERED.labels("p1")._value.get() == 90.0
    ages.replace("retry", {})
    ages.set("p1", "deliver:d1", None)
    assert ages.publish(now_s=130.0) == {"p1": 0.0, "p2": 0.0}


def test_pipeline_snapshot_groups_this_workers_metrics_by_pipeline() -> None:
    EVENTS.labels("snap-p", "deliver", "delivered").inc(3)
    DLQ_EVENTS.labels("snap-p", "transform", "T2001").inc()
    CONSUMER_LAG.labels("g1", "snap-p", "t", "0").set(4)
    CONSUMER_LAG.labels("g1", "snap-p", "t", "1").set(6)
    snapshot = pipeline_snapshot()["snap-p"]
    assert snapshot["events"]["deliver:delivered"] == 3
    assert snapshot["dlq"] == 1
    assert snapshot["lag"] == 10


@pytest.mark.parametrize(
    ("authorization", "token", "allowed"),
    [
        (None, "", True),  # no token set: open, as Prometheus expects by default
        ("Bearer anything", "", True),
        (None, "t0k", False),
        ("Bearer t0k", "t0k", True),
        ("bearer t0k", "t0k", True),
        ("Bearer t0k2", "t0k", False),
        ("Basic t0k", "t0k", False),
        ("t0k", "t0k", False),
    ],
)
def test_metrics_allowed(authorization: str | None, token: str, allowed: bool) -> None:
    assert metrics_allowed(authorization, token) is allowed
