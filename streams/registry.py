"""The worker's in-memory view of the config topic: the latest spec per key, hot-reloaded."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from streams.exceptions import InvalidSpec
from streams.spec import IngestKeySpec, PipelineSpec, SourceSpec, parse_spec

logger = logging.getLogger("switchyard.registry")


class SpecRegistry:
    """Applies config-topic records in order; the newest value per key wins, a tombstone removes it."""

    def __init__(self) -> None:
        self._pipelines: dict[str, PipelineSpec] = {}
        self._sources: dict[tuple[str, str], SourceSpec] = {}
        self._by_source_topic: dict[str, list[PipelineSpec]] = defaultdict(list)

    def apply(self, key: str, value: bytes | None) -> None:
        kind, _, ident = key.partition(":")
        if value is None or value == b"":
            self._remove(kind, ident)
            return
        try:
            spec = parse_spec(value)
        except InvalidSpec as exc:
            # Keep serving the previous revision: a bad record must not take a pipeline down.
            logger.error("ignoring config record %s: %s", key, exc)
            return
        if isinstance(spec, PipelineSpec):
            self._pipelines[spec.id] = spec
        else:
            self._sources[(spec.workspace, spec.stream)] = spec
        self._reindex()

    def _remove(self, kind: str, ident: str) -> None:
        if kind == "pipeline":
            self._pipelines.pop(ident, None)
        elif kind == "source":
            workspace, _, stream = ident.partition(".")
            self._sources.pop((workspace, stream), None)
        self._reindex()

    def _reindex(self) -> None:
        index: dict[str, list[PipelineSpec]] = defaultdict(list)
        for spec in self._pipelines.values():
            index[spec.source_topic].append(spec)
        self._by_source_topic = index

    def pipeline(self, pipeline_id: str) -> PipelineSpec | None:
        return self._pipelines.get(pipeline_id)

    def pipelines_for_source(self, topic: str) -> list[PipelineSpec]:
        return list(self._by_source_topic.get(topic, ()))

    def source(self, workspace: str, stream: str) -> SourceSpec | None:
        return self._sources.get((workspace, stream))

    def workspace_keys(self, workspace: str) -> list[IngestKeySpec]:
        """Every ingest key known for any stream of the workspace (to tell 403 from 401)."""
        return [key for (ws, _), source in self._sources.items() if ws == workspace for key in source.ingest_keys]

    def pipelines(self) -> Iterable[PipelineSpec]:
        return list(self._pipelines.values())
