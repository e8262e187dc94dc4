"""JSONata mappings behind one small interface: compile once, evaluate JSON text to JSON text.

`jsonatapy` (Rust core) is the engine; `jsonata-python` stays selectable with
SWITCHYARD_JSONATA_ENGINE=jsonata-python. jsonatapy's compiled expressions belong to the thread
that compiled them (another thread gets a pyo3 PanicException, which is a BaseException), so the
cache is per thread and the engine boundary catches BaseException. See
docs/decisions/0003-jsonata-engine.md.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from streams.exceptions import TransformFailed

T = TypeVar("T")
_CODE = re.compile(r"\b([STDU]\d{4})\b")
_CACHE_SIZE = 512
# Never swallow these at the engine boundary: they mean "stop", not "this event is bad".
_NOT_OURS = (KeyboardInterrupt, SystemExit, GeneratorExit, asyncio.CancelledError)


@dataclass(frozen=True)
class MappingError:
    """Why an expression does not compile or evaluate, in the engine's own terms."""

    code: str | None
    message: str
    position: int | None = None


class CompiledMapping(Protocol):
    def evaluate_json(self, document: str) -> str | None:
        """The result as JSON text, or None when the expression yields nothing (undefined)."""
        ...


class Engine(Protocol):
    name: str

    def compile(self, expression: str) -> CompiledMapping: ...


class MappingFailed(Exception):
    """Raised by an engine with a MappingError attached."""

    def __init__(self, error: MappingError) -> None:
        super().__init__(error.message)
        self.error = error


def _error_from(exc: BaseException) -> MappingError:
    text = str(exc)
    match = _CODE.search(text)
    code = getattr(exc, "error", None) or (match.group(1) if match else None)
    position = getattr(exc, "location", None)
    return MappingError(code=code, message=text, position=position if isinstance(position, int) else None)


def _guarded(call: Callable[[], T]) -> T:
    try:
        return call()
    except _NOT_OURS:
        raise
    except BaseException as exc:  # pyo3 panics are BaseException; they are the event's failure, not ours
        raise MappingFailed(_error_from(exc)) from exc


class _JsonataPyMapping:
    def __init__(self, compiled: object) -> None:
        self._compiled = compiled

    def evaluate_json(self, document: str) -> str | None:
        return _guarded(lambda: self._compiled.evaluate_json_or_none(document))  # type: ignore[attr-defined]


class JsonataPyEngine:
    name = "jsonatapy"

    def compile(self, expression: str) -> CompiledMapping:
        import jsonatapy

        return _JsonataPyMapping(_guarded(lambda: jsonatapy.compile(expression)))


class _JsonataPythonMapping:
    def __init__(self, compiled: object) -> None:
        self._compiled = compiled

    def evaluate_json(self, document: str) -> str | None:
        data = _guarded(lambda: json.loads(document))
        result = _guarded(lambda: self._compiled.evaluate(data))  # type: ignore[attr-defined]
        return None if result is None else json.dumps(result, separators=(",", ":"), ensure_ascii=False)


class JsonataPythonEngine:
    name = "jsonata-python"

    def compile(self, expression: str) -> CompiledMapping:
        import jsonata

        return _JsonataPythonMapping(_guarded(lambda: jsonata.Jsonata(expression)))


ENGINES: dict[str, Callable[[], Engine]] = {"jsonatapy": JsonataPyEngine, "jsonata-python": JsonataPythonEngine}


def get_engine(name: str = "jsonatapy") -> Engine:
    try:
        return ENGINES[name]()
    except KeyError:
        raise ValueError(f"unknown JSONata engine {name!r}; choose one of {sorted(ENGINES)}") from None


def check_expression(expression: str, *, engine: str = "jsonatapy") -> MappingError | None:
    """None if the expression compiles, else why not (used by the control plane on save)."""
    try:
        get_engine(engine).compile(expression)
    except MappingFailed as exc:
        return exc.error
    return None


class MappingCache:
    """Compiled expressions, per thread (jsonatapy requires it), bounded, keyed by expression text."""

    def __init__(self, engine: str = "jsonatapy") -> None:
        self._engine = get_engine(engine)
        self._local = threading.local()

    def get(self, expression: str) -> CompiledMapping:
        cache: dict[str, CompiledMapping] = self._local.__dict__.setdefault("cache", {})
        compiled = cache.get(expression)
        if compiled is None:
            if len(cache) >= _CACHE_SIZE:
                cache.pop(next(iter(cache)))
            compiled = cache[expression] = self._engine.compile(expression)
        return compiled


def apply_mapping(cache: MappingCache, expression: str, document: str) -> str:
    """Run the mapping; every failure becomes a TransformFailed with the engine's code."""
    try:
        result = cache.get(expression).evaluate_json(document)
    except MappingFailed as exc:
        raise TransformFailed(exc.error.message, error_type=exc.error.code or "JsonataError") from exc
    if result is None:
        raise TransformFailed("the mapping produced no result (undefined) for this event", error_type="EmptyResult")
    return result
