"""DLQ browsing at 100,000 records: how long the API's page, filter, deep-page and summary queries take.

    python -m bench.dlq_browse --records 100000 [--database-url postgres://...]

Fills a fresh database (SQLite in a temporary directory unless --database-url) with DLQ index rows shaped like
real ones (3 stages, 12 error types, 4 pipelines, 6 partitions, over 7 days), then calls the DLQ list and summary
endpoints through Django's test client as a viewer, best of 5 per case. The numbers go into docs/operations.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="sy-bench-dlq-")
    os.environ["SWITCHYARD_DATABASE_URL"] = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "control.settings")
    os.environ.setdefault("SWITCHYARD_LOG_FORMAT", "text")
    os.environ.setdefault("SWITCHYARD_ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return _run(args.records, args.repeat)


def _run(records: int, repeat: int) -> int:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from control.dlq.models import DlqRecord
    from control.streams.models import Stream
    from control.workspaces.models import Membership, Workspace

    workspace = Workspace.objects.create(slug="bench", name="Bench")
    stream = Stream.objects.create(workspace=workspace, name="orders", partitions=6)
    user = get_user_model().objects.create_user("viewer", password="x")
    Membership.objects.create(workspace=workspace, user=user, role="viewer")
    rng = random.Random(7)
    start = datetime.now(UTC) - timedelta(days=7)
    stages = ["validate", "transform", "deliver"]
    offsets = [0] * 6
    rows = []
    began = time.perf_counter()
    for i in range(records):
        partition = i % 6
        stage = rng.choice(stages)
        rows.append(
            DlqRecord(
                workspace=workspace,
                stream=stream,
                partition=partition,
                offset=offsets[partition],
                event_id=f"{i:032x}",
                pipeline_id=str(rng.randint(1, 4)),
                revision=rng.randint(1, 3),
                stage=stage,
                error_type=f"{stage[:3].upper()}{rng.randint(1, 4)}",
                message="x" * 120,
                failed_at=start + timedelta(seconds=i * 7 * 86400 / records),
                origin_topic="prod.bench.orders.raw",
            )
        )
        offsets[partition] += 1
    DlqRecord.objects.bulk_create(rows, batch_size=5000)
    print(f"inserted {records} index rows in {time.perf_counter() - began:.1f} s")

    client = Client()
    client.force_login(user)
    base = f"/api/v1/workspaces/bench/streams/{stream.pk}/dlq/"
    middle = (start + timedelta(days=3)).isoformat()
    cases = {
        "first page (50)": (base, {}),
        "page 100 of 200-row pages (offset 19,800)": (base, {"page": 100, "page_size": 200}),
        "last page (offset ~99,950)": (base, {"page": records // 50}),
        "filter stage+type+pipeline": (base, {"stage": "deliver", "error_type": "DEL2", "pipeline": 3}),
        "filter time range (1 day)": (base, {"since": middle, "until": (start + timedelta(days=4)).isoformat()}),
        "summary (all)": (base + "summary/", {}),
        "summary (1 day)": (base + "summary/", {"since": middle, "until": (start + timedelta(days=4)).isoformat()}),
    }
    print(f"{'case':48} {'best ms':>8} {'median ms':>10}")
    for name, (url, params) in cases.items():
        timings = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            response = client.get(url, params)
            timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.content[:300]
        print(f"{name:48} {min(timings):8.1f} {statistics.median(timings):10.1f}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
