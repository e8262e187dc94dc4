"""A minimal HTTP sink for the benchmarks: answers 200 to any POST and records when each event arrived.

    python -m bench.sink --port 8090

`GET /_sink/stats` counts, `GET /_sink/arrivals` maps Idempotency-Key -> first arrival (time.time()),
`POST /_sink/reset` forgets everything.
"""

from __future__ import annotations

import argparse
import time

from aiohttp import web

OK = b'{"received":true}'


class Recorder:
    def __init__(self) -> None:
        self.count = 0
        self.arrivals: dict[str, float] = {}
        self.first = 0.0
        self.last = 0.0

    async def receive(self, request: web.Request) -> web.Response:
        await request.read()
        now = time.time()
        self.count += 1
        self.first = self.first or now
        self.last = now
        self.arrivals.setdefault(request.headers.get("Idempotency-Key", ""), now)
        return web.Response(body=OK, content_type="application/json")

    async def stats(self, request: web.Request) -> web.Response:
        doc = {"count": self.count, "unique": len(self.arrivals), "first": self.first, "last": self.last}
        return web.json_response(doc)

    async def dump(self, request: web.Request) -> web.Response:
        return web.json_response(self.arrivals)

    async def reset(self, request: web.Request) -> web.Response:
        self.__init__()  # type: ignore[misc]
        return web.json_response({"ok": True})


def make_app() -> web.Application:
    recorder = Recorder()
    app = web.Application()
    app.add_routes(
        [
            web.get("/_sink/stats", recorder.stats),
            web.get("/_sink/arrivals", recorder.dump),
            web.post("/_sink/reset", recorder.reset),
            web.post("/{tail:.*}", recorder.receive),
        ]
    )
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(make_app(), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
