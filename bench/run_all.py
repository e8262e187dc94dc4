"""Run every benchmark against one broker started once, and print one results table.

    python -m bench.run_all                      # small defaults: a few minutes on 2 cores
    python -m bench.run_all --events 50000 --rate 500 --duration 60 --only ingest latency
    python -m bench.run_all --json bench-results.json

Every process binds 127.0.0.1 and everything started here is stopped at the end (or on Ctrl-C).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

from bench import delivery, ingest, latency, replay_live, transform
from bench.common import Result, add_arguments, context, stop_on_sigterm, table
from devkit.kafka_broker import KAFKA_VERSION

BENCHES = {
    "ingest": ingest.run,
    "transform": transform.run,
    "delivery": delivery.run,
    "latency": latency.run,
    "replay_live": replay_live.run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHES), help="run only these benchmarks")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    stop_on_sigterm()
    print(f"Python {platform.python_version()}, Kafka {KAFKA_VERSION}, args: {vars(args)}", flush=True)
    results: list[Result] = []
    failed: list[str] = []
    with context(args.bootstrap, args.workdir) as ctx:
        for name in args.only or BENCHES:
            started = time.monotonic()
            load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
            print(f"\n## {name} (load average before: {load})", flush=True)
            try:
                ran = BENCHES[name](ctx, args)
            except Exception:
                traceback.print_exc()
                failed.append(name)
                continue
            results += ran
            load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
            print(table(ran), f"\n({time.monotonic() - started:.0f} s; load average after: {load})", flush=True)
    print("\n## all results\n\n" + table(results))
    if args.json:
        args.json.write_text(json.dumps([dataclasses.asdict(r) for r in results], indent=2))
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
