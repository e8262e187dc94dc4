"""Topic names: the one place that builds and checks them.

<env>.<workspace>.<stream>.<variant>     e.g. dev.acme.orders.raw
<env>._switchyard.<name>                 internal topics, e.g. dev._switchyard.config
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from streams.exceptions import InvalidName

_PART = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")


class Variant(StrEnum):
    RAW = "raw"
    ENRICHED = "enriched"
    DLQ = "dlq"
    RETRY = "retry"


def check_name_part(value: str, *, what: str) -> str:
    """Return `value` if it can be a topic name part, else raise with what to fix."""
    if not _PART.fullmatch(value):
        raise InvalidName(
            f"{what} {value!r} must be 1-64 characters of lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return value


def topic_name(*, env: str, workspace: str, stream: str, variant: Variant) -> str:
    for what, part in (("environment", env), ("workspace", workspace), ("stream", stream)):
        check_name_part(part, what=what)
    return f"{env}.{workspace}.{stream}.{Variant(variant).value}"


def internal_topic(*, env: str, name: str) -> str:
    check_name_part(env, what="environment")
    check_name_part(name, what="internal topic")
    return f"{env}._switchyard.{name}"


def config_topic(env: str) -> str:
    return internal_topic(env=env, name="config")


# Consumer groups: one per pipeline for transform, one per pipeline and destination for delivery. Named here
# because the replay stage watches the same groups' lag to make room for live traffic.
def transform_group(env: str, pipeline_id: str) -> str:
    return f"switchyard-{env}-transform-{pipeline_id}"


def delivery_group(env: str, pipeline_id: str, destination_id: str) -> str:
    return f"switchyard-{env}-deliver-{pipeline_id}-{destination_id}"


@dataclass(frozen=True)
class TopicName:
    env: str
    workspace: str
    stream: str
    variant: Variant


def parse_topic(name: str) -> TopicName:
    parts = name.split(".")
    if len(parts) != 4 or parts[1].startswith("_"):
        raise InvalidName(f"{name!r} is not a stream topic (<env>.<workspace>.<stream>.<variant>)")
    env, workspace, stream, variant = parts
    try:
        parsed = TopicName(env, workspace, stream, Variant(variant))
    except ValueError:
        raise InvalidName(f"{name!r} has an unknown variant {variant!r}") from None
    topic_name(env=env, workspace=workspace, stream=stream, variant=parsed.variant)
    return parsed


def variant_pattern(*, env: str, variant: Variant) -> str:
    """A regular expression matching every stream topic of one variant in one environment."""
    check_name_part(env, what="environment")
    return rf"^{re.escape(env)}\.[a-z0-9-]+\.[a-z0-9-]+\.{Variant(variant).value}$"
