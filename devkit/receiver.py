"""A real local HTTP receiver for deliveries: the demo's destination and the tests' sink.

It records every request (method, path, headers, body) and can be told how to answer, so
tests can make it fail: `POST /_control` with {"statuses": [503, 503, 200], "delays": [3, 0]}.
`GET /` lists what arrived, newest first.

    python -m devkit.receiver --port 8002
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web

logger = logging.getLogger("switchyard.receiver")


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Behaviour:
    statuses: deque[int] = field(default_factory=deque)  # answered in order, then 200
    delays: deque[float] = field(default_factory=deque)  # seconds to wait before answering, in order, then 0


class Receiver:
    def __init__(self, *, keep: int = 10_000) -> None:
        self.received: deque[Received] = deque(maxlen=keep)
        self.behaviour = Behaviour()
        self.app = web.Application()
        self.app.add_routes(
            [
                web.get("/", self._index),
                web.post("/_control", self._control),
                web.route("*", "/{tail:.*}", self._receive),
            ]
        )

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.text()
        item = Received(request.method, request.path, dict(request.headers), body)
        self.received.append(item)
        status = self.behaviour.statuses.popleft() if self.behaviour.statuses else 200
        logger.info(
            "%s %s -> %d  idempotency-key=%s correlation-id=%s body=%s",
            item.method,
            item.path,
            status,
            item.headers.get("Idempotency-Key"),
            item.headers.get("X-Correlation-ID"),
            body[:500],
        )
        delay = self.behaviour.delays.popleft() if self.behaviour.delays else 0.0
        if delay:
            await asyncio.sleep(delay)
        return web.json_response({"received": True}, status=status)

    async def _control(self, request: web.Request) -> web.Response:
        doc = await request.json()
        self.behaviour = Behaviour(deque(doc.get("statuses", [])), deque(float(d) for d in doc.get("delays", [])))
        return web.json_response({"ok": True})

    async def _index(self, request: web.Request) -> web.Response:
        return web.json_response([asdict(r) for r in reversed(self.received)])


class ReceiverThread:
    """Runs a Receiver on its own event loop in a background thread (for tests)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.receiver = Receiver()
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        runner = web.AppRunner(self.receiver.app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._started.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())

    def start(self) -> ReceiverThread:
        self._thread.start()
        self._started.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description="Switchyard's local HTTP receiver")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="receiver: %(message)s")
    web.run_app(Receiver().app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
