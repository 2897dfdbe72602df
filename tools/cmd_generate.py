"""`lp` sub-commands: generate. Each command module registers its commands on the typer app."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from tools.cmd_events import WireFormat
from tools.synth_model import Config

DEFAULTS = Config()


def generate(
    seed: Annotated[int, typer.Option(help="Random seed: the same seed and options give the same bytes.")] = 1,
    learners: Annotated[int, typer.Option(min=0, help="Number of learners.")] = DEFAULTS.learners,
    courses: Annotated[int, typer.Option(min=1, help="Number of course runs.")] = DEFAULTS.courses,
    programs: Annotated[int, typer.Option(min=0, help="Number of programs.")] = DEFAULTS.programs,
    days: Annotated[int, typer.Option(min=1, help="Days of history.")] = DEFAULTS.days,
    start: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="First day (UTC).")] = datetime(
        DEFAULTS.start.year, DEFAULTS.start.month, DEFAULTS.start.day),
    out: Annotated[Path | None, typer.Option("--out", help="Write JSON lines here ('-' for stdout).")] = None,
    produce: Annotated[bool, typer.Option("--produce", help="Send to Kafka instead (as `lp produce` does).")] = False,
    topic_prefix: Annotated[str, typer.Option(help="Prefix for the `topic` written in each JSON line.")] = "",
    count: Annotated[bool, typer.Option("--count", help="Only count the events (a dry run).")] = False,
    wire_format: Annotated[WireFormat, typer.Option("--format", help="With --produce: json, or avro as "
                                                    "edx-event-bus-kafka writes it (LP_SCHEMA_REGISTRY_URL or the "
                                                    "`lp start` stack's registry).")] = WireFormat.json,
) -> None:
    """Generate a deterministic synthetic event history: write it as JSON lines (the format
    `lp produce` reads) or produce it to Kafka.

    About 250 events per learner over 60 days; `--learners 4000 --days 60` is about a million.
    """
    from tools.synthetic import count_events
    from tools.synthetic import generate as history

    options: dict[str, Any] = {"seed": seed, "learners": learners, "courses": courses, "programs": programs,
                               "days": days, "start": start.date()}
    if count:
        typer.echo(count_events(**options))
        return
    if (out is None) == (not produce):
        typer.echo("error: give exactly one of --out FILE and --produce", err=True)
        raise typer.Exit(2)
    if wire_format is WireFormat.avro and not produce:
        typer.echo("error: --format avro needs --produce (JSON lines are JSON; `lp produce --format avro` "
                   "sends a JSONL file as Avro)", err=True)
        raise typer.Exit(2)
    began = time.perf_counter()
    if produce:
        from readmodels.settings import SettingsError

        try:
            n = _produce(history(**options), options["start"], days, avro=wire_format is WireFormat.avro)
        except (SettingsError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
    else:
        assert out is not None
        n = _write(history(**options), out, options["start"], days, topic_prefix)
    elapsed = time.perf_counter() - began
    typer.echo(f"{n} events in {elapsed:.1f} s ({n / max(elapsed, 1e-9):,.0f} events/s)", err=True)


def _progress(events: Iterator[Any], first_day: date, days: int, *, quiet: bool) -> Iterator[Any]:
    """Pass the events through, showing a bar over the simulated days (exact, unlike an event estimate)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if quiet:
        yield from events
        return
    columns = (TextColumn("day"), MofNCompleteColumn(), BarColumn(), TextColumn("{task.fields[n]:,} events"),
               TimeElapsedColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("generate", total=days, n=0)
        n = 0
        for event in events:
            n += 1
            if n % 5000 == 0:
                bar.update(task, completed=min(days, (event.time.date() - first_day).days), n=n)
            yield event
        bar.update(task, completed=days, n=n)


def _write(events: Iterator[Any], out: Path, first_day: date, days: int, topic_prefix: str = "") -> int:
    from tools.synthetic import to_jsonl_line

    to_stdout = str(out) == "-"
    stream = sys.stdout.buffer if to_stdout else out.open("wb")
    n = 0
    try:
        chunk: list[bytes] = []
        for event in _progress(events, first_day, days, quiet=to_stdout):
            chunk.append(to_jsonl_line(event, topic_prefix))
            n += 1
            if len(chunk) >= 4096:
                stream.write(b"".join(chunk))
                chunk.clear()
        stream.write(b"".join(chunk))
    finally:
        if not to_stdout:
            stream.close()
    return n


def _produce(events: Iterator[Any], first_day: date, days: int, *, avro: bool = False) -> int:
    from readmodels.settings import load_settings
    from tools.eventio import resolve_target
    from tools.produce import produce
    from tools.stack import default_workdir
    from tools.topics import ensure_topics

    # Like `lp produce`: LP_* variables first, else the stack `lp start` is running, else defaults.
    target = resolve_target(None, None, default_workdir() / "stack.env")
    settings = load_settings(kafka_bootstrap=target.bootstrap, topic_prefix=target.topic_prefix,
                             event_bus_topic_prefix="", schema_registry_url=target.settings.schema_registry_url)
    counted = 0

    def counting() -> Iterator[Any]:
        nonlocal counted
        for event in _progress(events, first_day, days, quiet=False):
            counted += 1
            yield event

    async def run() -> None:
        await ensure_topics(settings)
        await produce(settings.kafka_bootstrap, counting(), topic_prefix=settings.full_topic_prefix,
                      avro=settings if avro else None)

    asyncio.run(run())
    return counted


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `lp` app."""
    app.command("generate")(generate)
