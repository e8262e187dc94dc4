"""Each compatibility rule with a change that breaks it, the reason given, and a change it allows."""

from __future__ import annotations

import pytest

from control.schemas.compatibility import compatibility_problems

BASE = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "amount": {"type": "number"},
        "status": {"enum": ["new", "paid"]},
        "items": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}}},
    },
    "required": ["id"],
}


def _with(**changes):  # type: ignore[no-untyped-def]
    import copy

    schema = copy.deepcopy(BASE)
    for path, value in changes.items():
        target = schema
        *parents, last = path.split("__")
        for part in parents:
            target = target[part]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return schema


@pytest.mark.parametrize(
    ("mode", "new", "code", "words"),
    [
        ("BACKWARD", _with(required=["id", "amount"]), "required_added", "new required property 'amount'"),
        ("BACKWARD", _with(properties__amount={"type": "integer"}), "type_narrowed", "number to integer"),
        ("BACKWARD", _with(properties__status={"enum": ["new"]}), "enum_narrowed", "['paid'] no longer allowed"),
        (
            "BACKWARD",
            _with(properties__amount=None, additionalProperties=False),
            "property_removed",
            "property 'amount' removed",
        ),
        (
            "BACKWARD",
            _with(properties__items__items__properties__sku={"type": "integer"}),
            "type_narrowed",
            "/properties/items/items/properties/sku",
        ),
        ("FORWARD", _with(required=[]), "required_removed", "'id' is no longer required"),
        ("FORWARD", _with(properties__amount={"type": ["number", "null"]}), "type_widened", "null"),
        ("FULL", _with(properties__status={"enum": ["new", "paid", "void"]}), "enum_narrowed", "['void']"),
    ],
)
def test_a_breaking_change_is_reported_with_its_reason(mode: str, new: dict, code: str, words: str) -> None:
    problems = compatibility_problems(previous=BASE, new=new, mode=mode)
    assert code in [p.code for p in problems], problems
    assert any(words in p.message or words in p.pointer for p in problems), problems


@pytest.mark.parametrize(
    ("mode", "new"),
    [
        ("BACKWARD", _with(properties__note={"type": "string"})),  # optional property added
        ("BACKWARD", _with(properties__amount={"type": ["number", "null"]})),  # widened
        ("BACKWARD", _with(properties__status={"enum": ["new", "paid", "void"]})),  # enum widened
        ("FORWARD", _with(required=["id", "amount"])),  # old readers get at least what they need
        ("FORWARD", _with(properties__amount={"type": "integer"})),  # every integer is a number
        ("NONE", _with(properties__id={"type": "integer"}, required=["id", "x"])),
    ],
)
def test_a_compatible_change_is_accepted(mode: str, new: dict) -> None:
    assert compatibility_problems(previous=BASE, new=new, mode=mode) == []
