"""Topic names: built, parsed, refused with a message that says what to fix, matched by variant."""

from __future__ import annotations

import re

import pytest

from streams.exceptions import InvalidName
from streams.topics import (
    TopicName,
    Variant,
    check_name_part,
    config_topic,
    internal_topic,
    parse_topic,
    topic_name,
    variant_pattern,
)

FIX_HINT = "lowercase letters, digits and '-'"


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        (Variant.RAW, "dev.acme.orders.raw"),
        (Variant.ENRICHED, "dev.acme.orders.enriched"),
        (Variant.DLQ, "dev.acme.orders.dlq"),
        (Variant.RETRY, "dev.acme.orders.retry"),
        ("raw", "dev.acme.orders.raw"),
    ],
)
def test_topic_name_is_env_workspace_stream_variant(variant: Variant, expected: str) -> None:
    assert topic_name(env="dev", workspace="acme", stream="orders", variant=variant) == expected


def test_internal_and_config_topics_live_under_switchyard() -> None:
    assert internal_topic(env="prod", name="offsets") == "prod._switchyard.offsets"
    assert config_topic("dev") == "dev._switchyard.config"


@pytest.mark.parametrize("value", ["a", "7", "acme", "order-events", "a" * 64, "x1-2-y"])
def test_valid_name_parts_are_returned_unchanged(value: str) -> None:
    assert check_name_part(value, what="stream") == value


@pytest.mark.parametrize(
    "value",
    ["", "Acme", "ac_me", "ac.me", "-acme", "acme-", "ac me", "a" * 65, "café", "_switchyard"],
)
def test_invalid_name_parts_are_refused_saying_what_to_fix(value: str) -> None:
    with pytest.raises(InvalidName) as info:
        check_name_part(value, what="workspace")
    message = str(info.value)
    assert message.startswith(f"workspace {value!r}")
    assert FIX_HINT in message
    assert "1-64 characters" in message


def test_name_part_with_trailing_newline_is_refused() -> None:
    with pytest.raises(InvalidName):
        check_name_part("acme\n", what="workspace")


def test_invalid_name_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="stream"):
        topic_name(env="dev", workspace="acme", stream="Orders", variant=Variant.RAW)


@pytest.mark.parametrize(
    ("kwargs", "what"),
    [
        ({"env": "DEV", "workspace": "acme", "stream": "orders"}, "environment"),
        ({"env": "dev", "workspace": "ac_me", "stream": "orders"}, "workspace"),
        ({"env": "dev", "workspace": "acme", "stream": "or.ders"}, "stream"),
    ],
)
def test_topic_name_names_the_bad_part(kwargs: dict[str, str], what: str) -> None:
    with pytest.raises(InvalidName, match=rf"^{what} "):
        topic_name(**kwargs, variant=Variant.RAW)


def test_topic_name_refuses_an_unknown_variant() -> None:
    with pytest.raises(ValueError):
        topic_name(env="dev", workspace="acme", stream="orders", variant="bronze")  # type: ignore[arg-type]


def test_internal_topic_refuses_bad_parts() -> None:
    with pytest.raises(InvalidName, match=r"^internal topic"):
        internal_topic(env="dev", name="Config")
    with pytest.raises(InvalidName, match=r"^environment"):
        config_topic("dev.x")


@pytest.mark.parametrize("variant", list(Variant))
def test_parse_topic_round_trips_topic_name(variant: Variant) -> None:
    name = topic_name(env="staging", workspace="acme-co", stream="orders-v2", variant=variant)
    parsed = parse_topic(name)
    assert parsed == TopicName(env="staging", workspace="acme-co", stream="orders-v2", variant=variant)
    assert isinstance(parsed.variant, Variant)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("dev.acme.orders", "is not a stream topic"),
        ("dev.acme.orders.raw.extra", "is not a stream topic"),
        ("dev._switchyard.config.raw", "is not a stream topic"),
        ("dev._switchyard.config", "is not a stream topic"),
        ("dev.acme.orders.bronze", "unknown variant 'bronze'"),
        ("dev.acme.orders.RAW", "unknown variant 'RAW'"),
    ],
)
def test_parse_topic_refuses_non_stream_topics(name: str, fragment: str) -> None:
    with pytest.raises(InvalidName) as info:
        parse_topic(name)
    assert fragment in str(info.value)
    assert repr(name) in str(info.value)


@pytest.mark.parametrize("name", ["dev.Acme.orders.raw", "dev.acme.or_ders.raw", "-dev.acme.orders.raw"])
def test_parse_topic_checks_every_part(name: str) -> None:
    with pytest.raises(InvalidName, match=re.escape(FIX_HINT)):
        parse_topic(name)


def test_variant_pattern_matches_only_its_variant_and_env() -> None:
    pattern = re.compile(variant_pattern(env="dev", variant=Variant.RAW))
    assert pattern.match("dev.acme.orders.raw")
    assert pattern.match("dev.other-ws.clicks-2.raw")
    for other in (
        "dev.acme.orders.enriched",
        "dev.acme.orders.dlq",
        "dev.acme.orders.retry",
        "prod.acme.orders.raw",
        "xdev.acme.orders.raw",
        "devx.acme.orders.raw",
        "dev.acme.orders.raw.dlq",
        "dev.acme.orders.rawx",
        "dev._switchyard.config",
        "dev._switchyard.x.raw",
        "dev.acme.raw",
    ):
        assert not pattern.match(other), other


def test_variant_pattern_for_another_variant_and_env() -> None:
    pattern = re.compile(variant_pattern(env="prod-eu", variant=Variant.ENRICHED))
    assert pattern.match("prod-eu.acme.orders.enriched")
    assert not pattern.match("prod-eu.acme.orders.raw")
    assert not pattern.match("prod.acme.orders.enriched")
    assert not pattern.match("prodXeu.acme.orders.enriched")


def test_variant_pattern_refuses_an_invalid_env() -> None:
    with pytest.raises(InvalidName, match=r"^environment"):
        variant_pattern(env="d.*", variant=Variant.RAW)
