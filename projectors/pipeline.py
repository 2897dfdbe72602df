"""One batch of Kafka messages -> read-model writes, dead letters and checkpoints.

Error policy (explicit, nothing swallowed):
- the Avro writer schemas a batch names are fetched from the schema registry before the batch is
  decoded; while the registry cannot answer, that is retried with backoff, indefinitely, and the
  batch waits unacked (an unknown schema id is no such case: its messages are dead-lettered);
- a message that cannot be decoded or projected goes to `<topic>.dlq` with the original key,
  value and headers plus `dlq_reason` and `dlq_source`, and is counted;
- a Redis or Kafka error while writing is transient: retried with bounded exponential backoff,
  indefinitely, so the batch is never acked before it is applied (ordering is kept);
- a write that fails for another reason (Redis refuses the script) is retried event by event, and
  only the events whose own write fails go to the dead-letter topic, with Redis' answer as reason;
- nothing escapes `handle`: faust would ack the batch anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from events import DecodeError, Event, decode
from events.avro import WriterSchemas, schema_id
from events.frozen import quick_init
from projectors.projections import project
from projectors.retry import retry_forever
from projectors.schema_registry import SchemaRegistry
from readmodels.ops import Checkpoint, Op
from readmodels.writer import Applied, RedisWriter

log = logging.getLogger(__name__)

# Messages prepared between two turns of the event loop (`prepare_in_slices`): ~2.5 ms of CPU.
PREPARE_SLICE = 100


@quick_init  # one per message (events/frozen.py)
@dataclass(frozen=True, slots=True)
class RawMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()

    @property
    def source(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"


@quick_init  # one per message (events/frozen.py)
@dataclass(frozen=True, slots=True)
class DeadLetter:
    message: RawMessage
    reason: str

    @property
    def topic(self) -> str:
        return f"{self.message.topic}.dlq"

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        return [
            *self.message.headers,
            ("dlq_reason", " ".join(self.reason.split())[:500].encode(errors="backslashreplace")),  # one line
            ("dlq_source", self.message.source.encode()),
        ]


class DeadLetterSink(Protocol):
    async def send(self, letters: Sequence[DeadLetter]) -> None: ...


@dataclass
class Stats:
    events: int = 0
    dead_letters: int = 0
    change_record_failures: int = 0
    batches: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


@quick_init  # one per message (events/frozen.py)
@dataclass(frozen=True, slots=True)
class Projected:
    """One decoded event with the operations it produced, for change records."""

    message: RawMessage
    event: Event[Any]
    first_op: int
    op_count: int


@dataclass
class BatchResult:
    projected: list[Projected]
    ops: list[Op]
    applied: list[Applied]
    dead_letters: list[DeadLetter]
    generation: int = 0
    changes: list[Any] = field(default_factory=list)  # change_records.record.ChangeRecord, when published


class BatchFacts(Protocol):
    serving: int  # the serving generation, read in the same round trip as the facts


class ChangeRecorder(Protocol):
    """Computes change records (projectors/change_records/): facts read before the write, replay after,
    held in the outbox with the write, released once published."""

    async def prefetch(self, generation: int, ops: Sequence[Op], batch: Sequence[RawMessage]) -> BatchFacts: ...

    def records(self, facts: Any, projected: Sequence[Projected], ops: Sequence[Op], generation: int) -> list[Any]: ...

    def held(self, facts: Any, records: Sequence[Any]) -> Mapping[str, bytes]: ...

    def published(self, facts: Any, records: Sequence[Any]) -> None: ...

    async def settle(self) -> None: ...


class ChangeSink(Protocol):
    async def send(self, records: Sequence[Any]) -> None: ...


Prepared = tuple[list[Projected], list[Op], list[DeadLetter], list[Checkpoint]]


async def writer_schemas(registry: SchemaRegistry | None, batch: Sequence[RawMessage]) -> WriterSchemas | None:
    """The Avro writer schemas the batch's values name, fetched into the registry's cache if they
    are not there yet (retried while the registry cannot answer); None without a registry."""
    if registry is None:
        return None
    ids = {i for m in batch if (i := schema_id(m.value)) is not None}
    if registry.missing(ids):
        await retry_forever("schema registry lookup", partial(registry.resolve, ids))
    return registry.schemas


def prepare(batch: Sequence[RawMessage], schemas: WriterSchemas | None = None) -> Prepared:
    """Pure part: decode and project every message of the batch (`schemas`: `writer_schemas`)."""
    projected: list[Projected] = []
    ops: list[Op] = []
    letters: list[DeadLetter] = []
    next_offsets: dict[tuple[str, int], int] = {}
    _prepare_into(batch, schemas, projected, ops, letters, next_offsets)
    return projected, ops, letters, _checkpoints(next_offsets)


async def prepare_in_slices(batch: Sequence[RawMessage], schemas: WriterSchemas | None = None,
                            size: int = PREPARE_SLICE) -> Prepared:
    """`prepare(batch, schemas)`, giving the event loop a turn after every `size` messages: the
    live agent prepares the next batch while the previous one is applied, and that apply's Redis
    and Kafka replies are handled between slices instead of after the whole batch (~25 ms)."""
    projected: list[Projected] = []
    ops: list[Op] = []
    letters: list[DeadLetter] = []
    next_offsets: dict[tuple[str, int], int] = {}
    for start in range(0, len(batch), size):
        _prepare_into(batch[start : start + size], schemas, projected, ops, letters, next_offsets)
        await asyncio.sleep(0)
    return projected, ops, letters, _checkpoints(next_offsets)


def _prepare_into(batch: Sequence[RawMessage], schemas: WriterSchemas | None, projected: list[Projected],
                  ops: list[Op], letters: list[DeadLetter], next_offsets: dict[tuple[str, int], int]) -> None:
    for m in batch:
        next_offsets[(m.topic, m.partition)] = max(next_offsets.get((m.topic, m.partition), 0), m.offset + 1)
        try:
            event = decode(m.headers, m.value, schemas)
        except DecodeError as exc:
            letters.append(DeadLetter(m, exc.reason))
            continue
        try:
            produced = project(event)
        except Exception as exc:  # a projection bug must not stop the stream: dead-letter it, loudly
            log.exception("projection of %s at %s failed", event.type, m.source)
            letters.append(DeadLetter(m, f"projection failed: {type(exc).__name__}: {exc}"))
            continue
        projected.append(Projected(m, event, len(ops), len(produced)))
        ops.extend(produced)


def _checkpoints(next_offsets: Mapping[tuple[str, int], int]) -> list[Checkpoint]:
    return [Checkpoint(t, p, o) for (t, p), o in sorted(next_offsets.items())]


class Projector:
    """Applies batches to one read-model generation.

    A fixed `generation` (rebuilds, tests) writes there and publishes nothing. With `pointer` (the
    live projector) the generation is the serving one, read per batch, and checked again after the
    write: if a rebuild switched the pointer meanwhile, the batch is applied to the new generation
    too (idempotent), so no batch can land only in a generation that no longer serves. Change
    records are made and published only in that live mode (`changes` and `sink`). `registry`: the
    schema registry for Avro values (None: Avro values are dead-lettered).
    """

    def __init__(
        self,
        writer: RedisWriter,
        dead_letters: DeadLetterSink,
        generation: int,
        *,
        pointer: Callable[[], Awaitable[int]] | None = None,
        changes: ChangeRecorder | None = None,
        sink: ChangeSink | None = None,
        registry: SchemaRegistry | None = None,
    ) -> None:
        self.writer = writer
        self.registry = registry
        self.dead_letters = dead_letters
        self.generation = generation
        self.pointer = pointer
        self.changes = changes if sink is not None else None
        self.sink = sink
        self.stats = Stats()
        self._publishing: asyncio.Task[None] | None = None

    async def handle(self, batch: Sequence[RawMessage]) -> BatchResult:
        return await self.handle_prepared(batch, await self.prepare(batch))

    async def prepare(self, batch: Sequence[RawMessage]) -> Prepared:
        """`prepare(batch)` with the writer schemas it needs fetched first, in slices (`prepare_in_slices`)."""
        return await prepare_in_slices(batch, await writer_schemas(self.registry, batch))

    async def flush(self) -> None:
        """Wait for the change records of the last batch to be published (or to fail), and released."""
        if self._publishing is not None:
            task, self._publishing = self._publishing, None
            await task
        if self.changes is not None:
            await self.changes.settle()

    async def _publish(self, changes: ChangeRecorder, sink: ChangeSink, facts: Any, records: Sequence[Any],
                       published: Sequence[Any]) -> None:
        try:
            if published:
                await retry_forever("change records produce", lambda: sink.send(published))
        except Exception:
            # Not transient: they stay held in the outbox (not released), and the next batch that
            # reads their partition's outbox field publishes them before its own.
            log.exception("change records of a batch at %s could not be published; kept in the outbox",
                          records[0].message.source if records else "?")
            self.stats.change_record_failures += 1
            return
        changes.published(facts, records)  # released in the background

    async def handle_prepared(self, batch: Sequence[RawMessage], prepared: Prepared) -> BatchResult:
        """`handle` with the pure part done by the caller (`prepare(batch)`), e.g. while the
        previous batch was being written (the rebuild overlaps the two)."""
        projected, ops, letters, checkpoints = prepared
        await self.flush()  # the previous batch's records go out before this batch's
        if letters:
            await retry_forever("dead-letter produce", lambda: self.dead_letters.send(letters))
            for letter in letters:
                log.warning("dead-lettered %s: %s", letter.message.source, letter.reason)
        changes, sink = self.changes, self.sink
        records: list[Any] = []
        held: Mapping[str, bytes] = {}
        if changes is not None and sink is not None:
            # Records come from the facts before the write, so they are computed before it and held
            # in the outbox with it: a crash after the write still publishes them on redelivery. The
            # read also names the serving generation (no separate pointer read).
            recorder = changes
            try:
                while True:
                    gen = self.generation
                    facts = await retry_forever("read facts", partial(recorder.prefetch, gen, ops, batch))
                    if facts.serving == gen:
                        break
                    self.generation = facts.serving
                records = recorder.records(facts, projected, ops, gen)
                held = recorder.held(facts, records)
            except Exception:
                # Not transient (e.g. a key of the wrong type): the read models still get written;
                # only this batch's change records are lost, loudly, instead of stopping the stream.
                log.exception("change records of a batch at %s could not be made; batch applied without them",
                              batch[0].source if batch else "?")
                self.stats.change_record_failures += 1
                changes, records = None, []
        elif self.pointer is not None:
            self.generation = await retry_forever("read serving generation", self.pointer)
        applied, unwritten = await self._write(ops, checkpoints, projected, held)
        published = records
        if unwritten:  # dead-lettered at the write: not applied, so not counted and not published
            letters = [*letters, *unwritten]
            failed = {d.message.source for d in unwritten}
            projected = [p for p in projected if p.message.source not in failed]
            published = [r for r in records if r.message.source not in failed]
        if changes is not None and sink is not None and records:
            # Published while the next batch is taken and prepared: the records are in the outbox
            # with the write, so a crash before the producer has them leaves them for the next
            # batch of their partition, or its redelivery. The next batch waits for this publish
            # first, so per key the order holds.
            self._publishing = asyncio.create_task(self._publish(changes, sink, facts, records, published))
        self.stats.batches += 1
        self.stats.events += len(projected)
        self.stats.dead_letters += len(letters)
        for p in projected:
            self.stats.by_type[p.event.type] = self.stats.by_type.get(p.event.type, 0) + 1
        return BatchResult(projected, ops, applied, letters, self.generation, records)

    async def _write(
        self, ops: Sequence[Op], checkpoints: Sequence[Checkpoint], projected: Sequence[Projected],
        held: Mapping[str, bytes],
    ) -> tuple[list[Applied], list[DeadLetter]]:
        gen = self.generation
        applied, unwritten = await self._apply(gen, ops, checkpoints, projected, {}, held)
        if self.pointer is None:
            return applied, list(unwritten.values())
        while (now_serving := await self._serving_after_write()) != gen:
            # A switch happened around our write: the batch may have landed only in the old generation.
            log.info("serving generation moved %d -> %d during a batch; re-applying it there", gen, now_serving)
            gen = now_serving
            self.generation = gen
            applied, unwritten = await self._apply(gen, ops, checkpoints, projected, unwritten)
        return applied, list(unwritten.values())

    async def _serving_after_write(self) -> int:
        """The serving generation as of the last write: read inside the write script when the
        writer tracks it (one round trip less per batch), else read now (later is as safe)."""
        assert self.pointer is not None
        if self.writer.serving is not None:
            return self.writer.serving
        return await retry_forever("read serving generation", self.pointer)

    async def _apply(
        self,
        gen: int,
        ops: Sequence[Op],
        checkpoints: Sequence[Checkpoint],
        projected: Sequence[Projected],
        unwritten: dict[str, DeadLetter],
        held: Mapping[str, bytes] | None = None,
    ) -> tuple[list[Applied], dict[str, DeadLetter]]:
        """The batch in one script (with the held change records); if Redis refuses it (not
        transiently), event by event, the events it refuses dead-lettered (sent before the
        checkpoints are written, so never lost)."""
        try:
            write = partial(self.writer.apply, gen, ops, checkpoints, **({"held": held} if held else {}))
            return await retry_forever("redis write", write), unwritten
        except Exception as exc:  # transient errors were retried: this one would fail again as a whole
            log.error("batch write into generation %d failed (%r); applying it event by event", gen, exc)
        applied: list[Applied] = []
        failed: list[DeadLetter] = []
        for p in projected:
            part = ops[p.first_op : p.first_op + p.op_count]
            try:
                done = await retry_forever("redis write", partial(self.writer.apply, gen, part))
            except Exception as exc:
                if p.message.source not in unwritten:
                    failed.append(DeadLetter(p.message, f"write failed: {type(exc).__name__}: {exc}"))
                continue
            applied.extend(Applied(p.first_op + a.index, a.previous) for a in done)
        if failed:
            await retry_forever("dead-letter produce", lambda: self.dead_letters.send(failed))
            for letter in failed:
                log.warning("dead-lettered %s: %s", letter.message.source, letter.reason)
                unwritten[letter.message.source] = letter
        await retry_forever("redis write", partial(self.writer.apply, gen, (), checkpoints))
        return applied, unwritten
