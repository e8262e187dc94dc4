"""Replay stage: runs the replay jobs whose commands land on this worker's partitions.

Commands come on the compacted `replay-commands` topic through the consumer group
`switchyard-<env>-replay`, so each job runs on exactly one worker; if that worker dies, the
partition (and the job) moves to another, which resumes from the last checkpoint published on
`replay-progress`. The group never commits: on every assignment it reads the commands from the
start and skips jobs whose progress says they finished, so a finished job is never run twice.

Replays share topics and destinations with live traffic. Besides its own rate limit, a job waits
whenever the live consumer group it feeds is more than `live_lag_limit` records behind, so a live
event never queues behind more than about that many replayed ones (ADR 0016).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition

from streams import envelope
from streams.consumer_loop import to_record
from streams.exceptions import InvalidSpec
from streams.group_lag import GroupLag
from streams.observability import REPLAY_LIVE_WAIT_SECONDS
from streams.ratelimit import TokenBucket
from streams.registry import SpecRegistry
from streams.replay import Lane, NotReplayable, ReplayCommand, ReplayProgress, live_lanes, replay_record
from streams.transform import Record

logger = logging.getLogger("switchyard.replay")

CHECKPOINT_EVERY = 200  # records, or
CHECKPOINT_EVERY_S = 2.0  # seconds, whichever comes first: progress stays visible while a job runs
LIVE_WAIT_POLL_S = 0.1  # a waiting job goes on within about this of the live group catching up

Sent = tuple["asyncio.Future[Any]", Record]  # a send in flight, and the DLQ record it replays


class ReplayStage:
    def __init__(
        self,
        *,
        commands_topic: str,
        progress_topic: str,
        consumer_factory: Callable[[], AIOKafkaConsumer],
        reader_factory: Callable[[], AIOKafkaConsumer],
        producer: AIOKafkaProducer,
        progress: dict[str, ReplayProgress],
        worker_id: str,
        env: str,
        registry: SpecRegistry,
        group_lag: GroupLag,
    ) -> None:
        self._commands_topic = commands_topic
        self._progress_topic = progress_topic
        self._consumer_factory = consumer_factory
        self._reader_factory = reader_factory
        self._producer = producer
        self._progress = progress  # kept current by a follower of the progress topic
        self._worker_id = worker_id
        self._env = env
        self._registry = registry  # the failed pipeline's destinations: the groups downstream of a re-transform
        self._group_lag = group_lag
        self._jobs: dict[str, asyncio.Task[None]] = {}
        self._cancelled: set[str] = set()

    async def run(self) -> None:
        consumer = self._consumer_factory()
        stage = self

        class Rewind(ConsumerRebalanceListener):  # type: ignore[misc]
            async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
                for task in stage._jobs.values():
                    task.cancel()  # another worker takes over from the last checkpoint
                stage._jobs.clear()

            async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
                if assigned:
                    await consumer.seek_to_beginning(*assigned)

        await consumer.start()
        consumer.subscribe([self._commands_topic], listener=Rewind())
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                for messages in batch.values():
                    for message in messages:
                        self._on_command(message.value)
        finally:
            for task in self._jobs.values():
                task.cancel()
            await consumer.stop()

    def _on_command(self, raw: bytes | None) -> None:
        if not raw:
            return
        try:
            command = ReplayCommand.from_json(raw)
        except InvalidSpec as exc:
            logger.error("ignoring replay command: %s", exc)
            return
        running = self._jobs.get(command.job_id)
        if command.action == "cancel":
            self._cancelled.add(command.job_id)
            if running is not None and not running.done():
                running.cancel()  # the job publishes its own final "cancelled" checkpoint
                return
            progress = self._progress.get(command.job_id) or ReplayProgress(command.job_id)
            if not progress.finished:
                progress.state = "cancelled"
                self._jobs[command.job_id] = asyncio.create_task(self._publish(progress))
            return
        if running is not None and not running.done():
            return
        progress = self._progress.get(command.job_id)
        if progress is not None and progress.finished:
            return
        self._jobs[command.job_id] = asyncio.create_task(self._run_job(command))

    async def _run_job(self, command: ReplayCommand) -> None:
        known = self._progress.get(command.job_id)
        progress = ReplayProgress(command.job_id) if known is None else ReplayProgress.from_json(known.to_json())
        progress.state, progress.worker = "running", self._worker_id
        bucket = TokenBucket(rate_per_s=command.rate_per_s, burst=max(1, int(command.rate_per_s)))
        reader = self._reader_factory()
        await reader.start()
        try:
            partitions = [TopicPartition(command.dlq_topic, p) for p in sorted(command.end_offsets)]
            reader.assign(partitions)
            for tp in partitions:
                done_up_to = progress.next_offsets.get(tp.partition, 0)
                reader.seek(tp, max(done_up_to, command.filter.from_offsets.get(tp.partition, 0)))
            since_checkpoint, last_checkpoint = 0, time.monotonic()
            await self._publish(progress)  # "running" is visible at once
            while not self._done(progress, command):
                batch = await reader.getmany(timeout_ms=500, max_records=100)
                if not batch:
                    # Offsets can have gaps (compaction, retention): the position is what counts.
                    for tp in partitions:
                        position = await reader.position(tp)
                        if position >= command.end_offsets[tp.partition]:
                            progress.next_offsets[tp.partition] = command.end_offsets[tp.partition]
                for tp, messages in batch.items():
                    since_checkpoint += await self._replay_fetched(command, progress, reader, tp, messages, bucket)
                if since_checkpoint >= CHECKPOINT_EVERY or time.monotonic() - last_checkpoint >= CHECKPOINT_EVERY_S:
                    await self._publish(progress)
                    since_checkpoint, last_checkpoint = 0, time.monotonic()
            progress.state = "completed"
            await self._publish(progress)
            logger.info("replay %s completed: %s", command.job_id, progress)
        except asyncio.CancelledError:
            # Cancelled by a command: final. Cancelled by a rebalance: the checkpoint lets the next owner resume.
            if command.job_id in self._cancelled:
                progress.state = "cancelled"
            await asyncio.shield(self._publish(progress))
            raise
        except Exception as exc:
            logger.exception("replay %s failed", command.job_id)
            progress.state, progress.message = "failed", str(exc)[:500]
            await self._publish(progress)
        finally:
            await reader.stop()

    @staticmethod
    def _done(progress: ReplayProgress, command: ReplayCommand) -> bool:
        return all(progress.next_offsets.get(p, 0) >= end for p, end in command.end_offsets.items())

    async def _replay_fetched(
        self,
        command: ReplayCommand,
        progress: ReplayProgress,
        reader: AIOKafkaConsumer,
        tp: TopicPartition,
        messages: list[Any],
        bucket: TokenBucket,
    ) -> int:
        """Replay one partition's fetched records up to the job's end; returns how many it read."""
        sends: list[Sent] = []
        read = 0
        for message in messages:
            if message.offset >= command.end_offsets[tp.partition]:
                reader.pause(tp)  # this partition is done: the end was fixed at job creation
                break
            await self._replay_one(command, progress, to_record(message), bucket, sends)
            read += 1
        # The sends were in flight together; the checkpoint below covers only acknowledged records.
        await self._settle(command, progress, sends)
        if read:
            progress.next_offsets[tp.partition] = messages[read - 1].offset + 1
        return read

    async def _replay_one(
        self, command: ReplayCommand, progress: ReplayProgress, record: Record, bucket: TokenBucket, sends: list[Sent]
    ) -> None:
        """Send one DLQ record to its target if the job selects it; `sends` holds it until `_settle`."""
        if not command.filter.matches(record):
            return
        progress.matched += 1
        try:
            out = replay_record(record, target=command.target, job_id=command.job_id, now_ms=int(time.time() * 1000))
        except NotReplayable:
            progress.skipped += 1
            return
        while (wait := bucket.take()) > 0:  # the job's rate limit: replays never flood live traffic
            await asyncio.sleep(wait)
        spec = self._registry.pipeline(envelope.header(record.headers, envelope.PIPELINE) or "")
        lanes = live_lanes(record, target=command.target, env=self._env, spec=spec)
        for lane in lanes:
            await self._make_room_for_live(command, progress, lane, sends)
        try:
            ack = await self._producer.send(out.topic, value=out.value, key=out.key, headers=out.headers)
        except Exception:
            logger.exception("replay %s: could not produce %s@%d", command.job_id, record.topic, record.offset)
            progress.failed += 1
            return
        for lane in lanes:
            if lane[1] == out.topic:  # one more for the live group to read (downstream ones see it later)
                self._group_lag.produced(*lane)
        sends.append((ack, record))

    @staticmethod
    async def _settle(command: ReplayCommand, progress: ReplayProgress, sends: list[Sent]) -> None:
        results = await asyncio.gather(*(ack for ack, _ in sends), return_exceptions=True)
        for result, (_, record) in zip(results, sends, strict=True):
            if isinstance(result, BaseException):
                logger.error(
                    "replay %s: could not produce %s@%d: %r", command.job_id, record.topic, record.offset, result
                )
                progress.failed += 1
            else:
                progress.replayed += 1

    async def _make_room_for_live(
        self, command: ReplayCommand, progress: ReplayProgress, lane: Lane, sends: list[Sent]
    ) -> None:
        """Wait while the lane's group is more than the job's limit behind on its topic; the job's message says so."""
        group, topic = lane
        waiting_since = None
        while (lag := await self._group_lag.lag(group, topic)) > command.live_lag_limit:
            if waiting_since is None:
                waiting_since = time.monotonic()
                await self._settle(command, progress, sends)  # the counts published below are acknowledged ones
                sends.clear()
                progress.message = (
                    f"waiting for live traffic: {group} is {lag} records behind on {topic} "
                    f"(this job waits above {command.live_lag_limit})"
                )
                logger.info("replay %s: %s", command.job_id, progress.message)
                await self._publish(progress)
            await asyncio.sleep(LIVE_WAIT_POLL_S)
        if waiting_since is not None:
            REPLAY_LIVE_WAIT_SECONDS.labels(group).inc(time.monotonic() - waiting_since)
            progress.message = ""

    async def _publish(self, progress: ReplayProgress) -> None:
        progress.updated_at = time.time()
        self._progress[progress.job_id] = progress
        await (await self._producer.send(self._progress_topic, key=progress.job_id.encode(), value=progress.to_json()))
