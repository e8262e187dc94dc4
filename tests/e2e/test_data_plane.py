"""The data plane end to end: a real broker, a real worker process, a real HTTP receiver.

Each test gets its own stream and pipeline in one environment served by one worker, so the
tests also show that pipelines and streams created while the worker runs are picked up.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from connectors.webhook_signatures import standard_webhooks_headers, verify_standard_webhooks
from devkit.kafka_broker import free_port
from devkit.receiver import ReceiverThread
from streams import envelope
from streams.replay import REDELIVER, RETRANSFORM, ReplayCommand, ReplayFilter
from streams.secrets import encrypt
from streams.spec import SchemaRef, SignatureSpec
from streams.topics import Variant
from tests.conftest import WorkerProcess, wait_for
from tests.e2e.kit import (
    Platform,
    body_of,
    delivered_ids,
    destination,
    dlq_end_offsets,
    headers_of,
    latest_progress,
    read_topic,
    send_command,
    wait_applied,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

SIGNING_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture(scope="module")
def platform(kafka_bootstrap: str) -> Platform:
    return Platform(kafka_bootstrap)


@pytest.fixture(scope="module")
def dp_worker(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(env=platform.env, bootstrap=platform.bootstrap, log_dir=tmp_path_factory.mktemp("worker"))
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


def control(receiver, **behaviour) -> None:  # type: ignore[no-untyped-def]
    requests.post(f"{receiver.url}/_control", json=behaviour, timeout=10).raise_for_status()


def received(receiver) -> list:  # type: ignore[no-untyped-def]
    return list(receiver.receiver.received)


def test_happy_path_carries_ids_auth_and_a_verifiable_signature(platform, dp_worker, receiver) -> None:  # type: ignore[no-untyped-def]
    platform.stream("orders", key_path="customer.id")
    platform.pipeline(
        "happy",
        source="orders",
        mapping='{"order": id, "who": customer.name}',
        destinations=[
            destination(
                f"{receiver.url}/in", auth_type="bearer", auth_secret_enc="s3cret", signing_secret_enc=SIGNING_SECRET
            )
        ],
    )
    [event_id] = platform.ingest_accepted(
        dp_worker.url, "orders", {"id": 7, "customer": {"id": "c-1", "name": "Ada"}}, headers={"X-Request-ID": "r-1"}
    )
    [request] = wait_for(lambda: received(receiver), what="the delivery")
    assert request.json() == {"order": 7, "who": "Ada"}
    assert request.headers["Idempotency-Key"] == event_id
    assert request.headers["X-Correlation-ID"] == "r-1"
    assert request.headers["Authorization"] == "Bearer s3cret"
    assert request.headers["webhook-id"] == event_id
    verify_standard_webhooks(secret=SIGNING_SECRET, headers=request.headers, body=request.body.encode())
    raw = read_topic(platform.bootstrap, platform.topic("orders", Variant.RAW), expect=1)
    assert raw[0].key() == b"c-1"  # the stream's key path
    metrics = requests.get(f"{dp_worker.url}/metrics", timeout=10).text
    assert 'switchyard_events_total{outcome="delivered",pipeline="happy",stage="deliver"} 1.0' in metrics
    assert 'switchyard_ingest_requests_total{status="202"}' in metrics


def test_schema_invalid_event_lands_in_the_dlq_with_the_pointer(platform, dp_worker, receiver) -> None:  # type: ignore[no-untyped-def]
    schema = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
    platform.stream("strict")
    platform.pipeline(
        "strict",
        source="strict",
        input_schema=SchemaRef(id="s1", version=3, schema=schema),
        destinations=[destination(f"{receiver.url}/in")],
    )
    [event_id] = platform.ingest_accepted(dp_worker.url, "strict", {"id": "not-a-number"})
    [dead] = read_topic(platform.bootstrap, platform.topic("strict", Variant.DLQ), expect=1)
    headers = headers_of(dead)
    assert body_of(dead) == {"id": "not-a-number"}  # the original, untouched
    assert headers[envelope.EVENT_ID] == event_id
    assert headers[envelope.ERROR_STAGE] == "validate"
    assert headers[envelope.ERROR_TYPE] == "SchemaViolation"
    assert headers[envelope.ERROR_POINTER] == "/id"
    assert headers[envelope.INPUT_SCHEMA] == "s1:3"
    assert headers[envelope.ORIGIN_TOPIC] == platform.topic("strict", Variant.RAW)
    assert headers[envelope.ORIGIN_OFFSET] == "0"
    assert received(receiver) == []


def test_mapping_runtime_error_lands_in_the_dlq(platform, dp_worker, receiver) -> None:  # type: ignore[no-untyped-def]
    platform.stream("mapfail")
    platform.pipeline("mapfail", source="mapfail", mapping='{"n": a + 1}', destinations=[destination(receiver.url)])
    platform.ingest_accepted(dp_worker.url, "mapfail", {"a": "text"})
    [dead] = read_topic(platform.bootstrap, platform.topic("mapfail", Variant.DLQ), expect=1)
    headers = headers_of(dead)
    assert headers[envelope.ERROR_STAGE] == "transform"
    assert headers[envelope.ERROR_TYPE] == "T2001"
    assert headers[envelope.PIPELINE] == "mapfail"


def test_503_503_200_is_one_success_on_attempt_3_with_one_idempotency_key(platform, dp_worker, receiver) -> None:  # type: ignore[no-untyped-def]
    control(receiver, statuses=[503, 503, 200])
    platform.stream("flaky")
    platform.pipeline("flaky", source="flaky", destinations=[destination(receiver.url)])
    [event_id] = platform.ingest_accepted(dp_worker.url, "flaky", {"n": 1})
    wait_for(lambda: len(received(receiver)) >= 3, what="three attempts")
    time.sleep(2)  # would a fourth (wrong) attempt follow?
    attempts = received(receiver)
    assert len(attempts) == 3
    assert {a.headers["Idempotency-Key"] for a in attempts} == {event_id}
    retries = read_topic(platform.bootstrap, platform.topic("flaky", Variant.RETRY), expect=2)
    assert sorted(headers_of(r)[envelope.ATTEMPT] for r in retries) == ["1", "2"]


def test_400_goes_to_the_dlq_after_one_attempt(platform, dp_worker, receiver) -> None:  # type: ignore[no-untyped-def]
    control(receiver, statuses=[400])
    platform.stream("refused")
    platform.pipeline("refused", source="refused", destinations=[destination(receiver.url)])
    platform.ingest_accepted(dp_worker.url, "refused", {"n": 1})
    [dead] = read_topic(platform.bootstrap, platform.topic("refused", Variant.DLQ), expect=1)
    headers = headers_of(dead)
    assert headers[envelope.ERROR_STAGE] == "deliver"
    assert headers[envelope.ERROR_TYPE] == "HTTP400"
    assert headers[envelope.ATTEMPT] == "1"
    assert headers[envelope.DESTINATION] == "d1"
    assert len(received(receiver)) == 1


def test_a_timeout_is_retried(platform, dp_worker, receiver) -> None:  # type: ignore[no-untyped-def]
    control(receiver, delays=[3])
    platform.stream("slow")
    platform.pipeline("slow", source="slow", destinations=[destination(receiver.url, timeout_s=1.0)])
    [event_id] = platform.ingest_accepted(dp_worker.url, "slow", {"n": 1})
    wait_for(lambda: len(received(receiver)) >= 2, what="the retry after the timeout")
    [retry] = read_topic(platform.bootstrap, platform.topic("slow", Variant.RETRY), expect=1)
    assert headers_of(retry)[envelope.LAST_ERROR].startswith("Timeout")
    assert {a.headers["Idempotency-Key"] for a in received(receiver)} == {event_id}


def test_a_down_destination_does_not_stop_another_pipeline(platform, dp_worker, receiver) -> None:  # type: ignore[no-untyped-def]
    platform.stream("shared")
    dead_url = f"http://127.0.0.1:{free_port()}/nobody"
    platform.pipeline("to-dead", source="shared", destinations=[destination(dead_url, "dead", retry_schedule_s=(60,))])
    platform.pipeline("to-live", source="shared", destinations=[destination(receiver.url, "live")])
    ids = platform.ingest_accepted(dp_worker.url, "shared", [{"n": i} for i in range(20)])
    wait_for(lambda: set(delivered_ids(receiver)) >= set(ids), what="the live pipeline's deliveries")


def test_a_new_mapping_revision_applies_without_restart(platform, dp_worker, receiver) -> None:  # type: ignore[no-untyped-def]
    platform.stream("evolving")
    dest = [destination(receiver.url)]
    platform.pipeline("evolving", source="evolving", mapping='{"v": 1}', destinations=dest)
    platform.ingest_accepted(dp_worker.url, "evolving", {})
    wait_for(lambda: any(r.json() == {"v": 1} for r in received(receiver)), what="revision 1")
    platform.pipeline("evolving", source="evolving", mapping='{"v": 2}', destinations=dest, revision=2)

    def second_revision_seen() -> bool:
        platform.ingest_accepted(dp_worker.url, "evolving", {})
        time.sleep(0.5)
        return any(r.json() == {"v": 2} for r in received(receiver))

    wait_for(second_revision_seen, what="revision 2")


def test_a_paused_pipeline_keeps_its_events_and_delivers_them_on_resume(platform, dp_worker, receiver) -> None:  # type: ignore[no-untyped-def]
    platform.stream("pausable")
    dest = [destination(receiver.url)]
    platform.pipeline("pausable", source="pausable", destinations=dest, state="paused")
    ids = platform.ingest_accepted(dp_worker.url, "pausable", [{"n": i} for i in range(5)])
    time.sleep(4)  # paused: nothing may arrive
    assert received(receiver) == []
    platform.pipeline("pausable", source="pausable", destinations=dest, state="active", revision=2)
    wait_for(lambda: set(delivered_ids(receiver)) == set(ids), what="the held events after resume")


def test_ingest_refusals_each_have_their_status(platform, dp_worker) -> None:  # type: ignore[no-untyped-def]
    platform.stream("guarded", max_batch=3, rate_limit_per_s=1, rate_limit_burst=4)
    platform.stream("other", ingest_keys=())  # the key belongs to the workspace, but not to this stream
    url = f"{dp_worker.url}/ingest/{platform.workspace}"
    auth = {"Authorization": f"Bearer {platform.key}"}
    platform.ingest_accepted(dp_worker.url, "guarded", {"warm": "up"})

    def status(stream: str = "guarded", **kwargs) -> requests.Response:  # type: ignore[no-untyped-def]
        return requests.post(f"{url}/{stream}", timeout=10, **kwargs)

    assert status(json={}).status_code == 401
    assert status(json={}, headers={"X-API-Key": "syk_wrong"}).json()["error"]["code"] == "invalid_api_key"
    assert wait_for(lambda: status("other", json={}, headers=auth).status_code == 403, what="403 for another stream")
    assert status("missing", json={}, headers=auth).status_code == 404
    assert (
        status(data=b"x" * (1024 * 1024 + 1), headers={**auth, "Content-Type": "application/json"}).status_code == 413
    )
    assert status(json=[{}, {}, {}, {}], headers=auth).json()["error"]["code"] == "batch_too_large"
    assert status(data=b"a=1", headers={**auth, "Content-Type": "text/plain"}).status_code == 415
    bad = status(data=b'{"a": }', headers={**auth, "Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["error"]["details"]["column"] == 7
    limited = [status(json=[{}, {}, {}], headers=auth) for _ in range(3)]
    assert 429 in [r.status_code for r in limited]
    refusal = next(r for r in limited if r.status_code == 429)
    assert int(refusal.headers["Retry-After"]) >= 1


def test_batch_ndjson_and_idempotency_key(platform, dp_worker, receiver) -> None:  # type: ignore[no-untyped-def]
    platform.stream("batches")
    platform.pipeline("batches", source="batches", destinations=[destination(receiver.url)])
    platform.ingest_accepted(dp_worker.url, "batches", {"warm": "up"})
    url = f"{dp_worker.url}/ingest/{platform.workspace}/batches"
    headers = {"Authorization": f"Bearer {platform.key}", "Content-Type": "application/x-ndjson"}
    first = requests.post(url, data=b'{"a":1}\n{"a":2}\n', headers={**headers, "Idempotency-Key": "k-1"}, timeout=10)
    again = requests.post(url, data=b'{"a":1}\n{"a":2}\n', headers={**headers, "Idempotency-Key": "k-1"}, timeout=10)
    assert first.status_code == again.status_code == 202
    assert len(first.json()["event_ids"]) == 2
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    wait_for(lambda: len(received(receiver)) >= 3, what="warm-up plus the two batch events")
    time.sleep(1)
    assert len(received(receiver)) == 3  # the repeat stored nothing new


def test_signed_ingest_is_verified(platform, dp_worker) -> None:  # type: ignore[no-untyped-def]
    platform.stream("signed", signature=SignatureSpec(type="standard-webhooks", secret_enc=encrypt(SIGNING_SECRET)))
    body = json.dumps({"a": 1}).encode()
    signed = standard_webhooks_headers(secret=SIGNING_SECRET, msg_id="m-1", body=body)
    headers = {"Authorization": f"Bearer {platform.key}", "Content-Type": "application/json"}
    url = f"{dp_worker.url}/ingest/{platform.workspace}/signed"
    ok = wait_for(
        lambda: (
            (r := requests.post(url, data=body, headers={**headers, **signed}, timeout=10)).status_code != 404 and r
        ),
        what="the signed stream",
    )
    assert ok.status_code == 202, ok.text
    tampered = requests.post(url, data=b'{"a": 2}', headers={**headers, **signed}, timeout=10)
    assert tampered.status_code == 401
    assert tampered.json()["error"]["code"] == "invalid_signature"


def _kill_and_restart_scenario(bootstrap: str, receiver, tmp_path: Path, *, workers: int) -> Counter[str]:  # type: ignore[no-untyped-def]
    platform = Platform(bootstrap)  # an environment of its own: no other worker shares its groups
    stream = "bulk"
    platform.stream(stream, partitions=4, rate_limit_per_s=5000, rate_limit_burst=5000)
    platform.pipeline(
        stream, source=stream, mapping='{"n": n}', destinations=[destination(receiver.url, max_concurrency=20)]
    )
    procs = [WorkerProcess(env=platform.env, bootstrap=platform.bootstrap, log_dir=tmp_path) for _ in range(workers)]
    for proc in procs:
        proc.start()
    try:
        ids: list[str] = []
        for start in range(0, 1000, 100):
            ids += platform.ingest_accepted(procs[0].url, stream, [{"n": n} for n in range(start, start + 100)])
            if start == 300:
                wait_for(lambda: len(received(receiver)) > 50, what="deliveries to be under way")
                procs[-1].kill()  # SIGKILL in the middle of the stream
                if workers == 1:
                    procs[-1].start()
        wait_for(lambda: set(delivered_ids(receiver)) >= set(ids), timeout=180, what="every event after the kill")
    finally:
        for proc in procs:
            proc.stop()
    counts = Counter(delivered_ids(receiver))
    duplicates = sum(c - 1 for c in counts.values())
    print(f"\n{workers} worker(s), one SIGKILLed: 1000 events, {len(counts)} delivered ids, {duplicates} duplicates")
    return counts


def test_worker_killed_mid_stream_and_restarted_loses_nothing(kafka_bootstrap, receiver, tmp_path) -> None:  # type: ignore[no-untyped-def]
    counts = _kill_and_restart_scenario(kafka_bootstrap, receiver, tmp_path, workers=1)
    assert len(counts) >= 1000


def test_two_workers_one_killed_the_other_takes_over(kafka_bootstrap, receiver, tmp_path) -> None:  # type: ignore[no-untyped-def]
    counts = _kill_and_restart_scenario(kafka_bootstrap, receiver, tmp_path, workers=2)
    assert len(counts) >= 1000


def _status(worker: WorkerProcess) -> dict:  # type: ignore[type-arg]
    return dict(requests.get(f"{worker.url}/status", timeout=10).json())


def test_a_failing_destination_opens_its_circuit_and_recovers_through_a_probe(platform, dp_worker) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    platform.stream("breaker")
    dest = destination(
        f"http://127.0.0.1:{port}/in",
        id="flappy",
        retry_schedule_s=(1,) * 30,
        circuit_failure_threshold=2,
        circuit_open_s=2.0,
    )
    platform.pipeline("breaker", source="breaker", destinations=[dest])
    ids = platform.ingest_accepted(dp_worker.url, "breaker", [{"n": i} for i in range(10)])

    def circuit() -> str | None:
        found = [d for d in _status(dp_worker)["destinations"] if d["destination"] == "flappy"]
        return found[0]["state"] if found else None

    wait_for(lambda: circuit() in ("open", "half_open"), what="the circuit to open")
    live = ReceiverThread(port).start()  # the destination comes back
    try:
        wait_for(lambda: set(delivered_ids(live)) >= set(ids), what="every event after recovery")
        wait_for(lambda: circuit() == "closed", what="the circuit to close")
    finally:
        live.stop()


def test_a_pending_retry_survives_a_killed_worker(kafka_bootstrap, receiver, tmp_path) -> None:  # type: ignore[no-untyped-def]
    platform = Platform(kafka_bootstrap)
    platform.stream("later")
    control(receiver, statuses=[503])
    platform.pipeline("later", source="later", destinations=[destination(receiver.url, retry_schedule_s=(6,))])
    worker = WorkerProcess(env=platform.env, bootstrap=kafka_bootstrap, log_dir=tmp_path).start()
    try:
        [event_id] = platform.ingest_accepted(worker.url, "later", {"n": 1})
        read_topic(kafka_bootstrap, platform.topic("later", Variant.RETRY), expect=1)  # the retry is scheduled
        worker.kill()  # before it is due
        assert len(received(receiver)) == 1
        worker.start()
        wait_for(lambda: len(received(receiver)) >= 2, what="the retry after the restart")
    finally:
        worker.stop()
    assert [r.headers["Idempotency-Key"] for r in received(receiver)] == [event_id, event_id]


def test_replay_after_a_mapping_fix_delivers_once_with_the_same_event_id(platform, dp_worker, receiver) -> None:  # type: ignore[no-untyped-def]
    platform.stream("fixme")
    dest = [destination(receiver.url)]
    platform.pipeline("fixme", source="fixme", mapping='{"total": $number(amount)}', destinations=dest)
    [bad_id] = platform.ingest_accepted(dp_worker.url, "fixme", {"amount": "12,50"})
    dlq = platform.topic("fixme", Variant.DLQ)
    [dead] = read_topic(platform.bootstrap, dlq, expect=1)
    assert headers_of(dead)[envelope.ERROR_TYPE] == "D3030"

    # The fix: a new revision whose mapping understands decimal commas.
    fixed = '{"total": $number($replace(amount, ",", "."))}'
    platform.pipeline("fixme", source="fixme", mapping=fixed, destinations=dest, revision=2)
    command = ReplayCommand(
        job_id="job-1",
        action="run",
        dlq_topic=dlq,
        target=RETRANSFORM,
        end_offsets=dlq_end_offsets(platform.bootstrap, dlq, 2),
        filter=ReplayFilter(stages=("transform",)),
        rate_per_s=50,
    )
    send_command(platform, command)
    [delivered] = wait_for(lambda: received(receiver), what="the replayed event")
    assert delivered.json() == {"total": 12.5}
    assert delivered.headers["Idempotency-Key"] == bad_id
    assert delivered.headers["X-Switchyard-Replay-Job"] == "job-1"
    progress = wait_for(
        lambda: (p := latest_progress(platform, "job-1")) and p["state"] == "completed" and p, what="job completion"
    )
    assert (progress["matched"], progress["replayed"], progress["skipped"]) == (1, 1, 0)

    send_command(platform, command)  # running a finished job again replays nothing
    time.sleep(3)
    assert len(received(receiver)) == 1


def test_a_replay_waits_while_the_live_pipeline_is_behind_and_goes_on_when_it_catches_up(  # type: ignore[no-untyped-def]
    platform, dp_worker, receiver
) -> None:
    platform.stream("busy", partitions=1)
    dest = [destination(receiver.url)]
    platform.pipeline("busy", source="busy", mapping='{"total": $number(amount)}', destinations=dest)
    bad_ids = platform.ingest_accepted(dp_worker.url, "busy", [{"amount": f"{i},5"} for i in range(60)])
    dlq = platform.topic("busy", Variant.DLQ)
    read_topic(platform.bootstrap, dlq, expect=60)

    # The fix arrives paused: the pipeline's transform group holds its position, so everything the replay
    # sends to the raw topic is live backlog that nobody consumes.
    fixed = '{"total": $number($replace(amount, ",", "."))}'
    platform.pipeline("busy", source="busy", mapping=fixed, destinations=dest, revision=2, state="paused")
    wait_applied(dp_worker.url, "busy", 2)
    command = ReplayCommand(
        job_id="job-busy",
        action="run",
        dlq_topic=dlq,
        target=RETRANSFORM,
        end_offsets=dlq_end_offsets(platform.bootstrap, dlq, 1),
        rate_per_s=40,
        live_lag_limit=10,
    )
    send_command(platform, command)
    waiting = wait_for(
        lambda: (p := latest_progress(platform, "job-busy")) and p["message"].startswith("waiting for live") and p,
        what="the job waiting for live traffic",
    )
    assert "switchyard-" in waiting["message"] and "-transform-busy" in waiting["message"]
    # It stopped at the limit: one past it (the record that crossed it), or one more if the paused group's last
    # commit had not landed when its lag was measured.
    assert 11 <= waiting["replayed"] <= 12
    live_ids = platform.ingest_accepted(dp_worker.url, "busy", [{"amount": "7"}])

    platform.pipeline("busy", source="busy", mapping=fixed, destinations=dest, revision=3)  # resumed
    wait_for(lambda: set(delivered_ids(receiver)) == set(bad_ids + live_ids), what="replayed and live events")
    progress = wait_for(
        lambda: (p := latest_progress(platform, "job-busy")) and p["state"] == "completed" and p, what="job completion"
    )
    assert (progress["matched"], progress["replayed"], progress["message"]) == (60, 60, "")
    assert len(received(receiver)) == 61


def test_redeliver_sends_a_deliver_stage_failure_to_its_destination_again(platform, dp_worker, receiver) -> None:  # type: ignore[no-untyped-def]
    control(receiver, statuses=[410])
    platform.stream("gone")
    platform.pipeline("gone", source="gone", destinations=[destination(receiver.url)])
    [event_id] = platform.ingest_accepted(dp_worker.url, "gone", {"n": 1})
    dlq = platform.topic("gone", Variant.DLQ)
    [dead] = read_topic(platform.bootstrap, dlq, expect=1)
    assert headers_of(dead)[envelope.ERROR_TYPE] == "HTTP410"
    command = ReplayCommand(
        job_id="job-2",
        action="run",
        dlq_topic=dlq,
        target=REDELIVER,
        end_offsets=dlq_end_offsets(platform.bootstrap, dlq, 2),
    )
    send_command(platform, command)
    wait_for(lambda: len(received(receiver)) == 2, what="the re-delivery")
    assert [r.headers["Idempotency-Key"] for r in received(receiver)] == [event_id, event_id]
    assert [r.headers.get("X-Switchyard-Replay-Job") for r in received(receiver)] == [None, "job-2"]
