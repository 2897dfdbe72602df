"""`lp` sub-commands: events (`lp produce`, `lp tail`). Each command module registers its commands on
the typer app; the work is done in tools/jsonl.py (pure) and tools/eventio.py (Kafka)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

BootstrapOpt = Annotated[
    str | None, typer.Option("--bootstrap", help="Kafka bootstrap (default: LP_KAFKA_BOOTSTRAP, .run/stack.env).")
]
PrefixOpt = Annotated[
    str | None, typer.Option("--topic-prefix", help="Whole topic prefix (default: LP_TOPIC_PREFIX and "
                             "LP_EVENT_BUS_TOPIC_PREFIX + '-', .run/stack.env).")
]
RegistryOpt = Annotated[
    str | None, typer.Option("--schema-registry", help="Schema registry URL for Avro (default: "
                             "LP_SCHEMA_REGISTRY_URL, .run/stack.env).")
]


class WireFormat(StrEnum):
    json = "json"
    avro = "avro"


FormatOpt = Annotated[WireFormat, typer.Option("--format", help="Value format: JSON, or Avro as edx-event-bus-kafka "
                                               "writes it (schemas registered in the schema registry).")]


def _target(bootstrap: str | None, topic_prefix: str | None, registry: str | None = None) -> Any:
    from readmodels.settings import SettingsError
    from tools.eventio import resolve_target
    from tools.stack import default_workdir

    try:
        return resolve_target(bootstrap, topic_prefix, default_workdir() / "stack.env", registry)
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@contextmanager
def _open_lines(file: str) -> Iterator[Iterable[str]]:
    if file == "-":
        yield sys.stdin
        return
    with Path(file).open(encoding="utf-8") as handle:
        yield handle


def produce(
    file: Annotated[str, typer.Argument(help="JSON lines file, one CloudEvent per line ('-' for stdin).")],
    bootstrap: BootstrapOpt = None,
    topic_prefix: PrefixOpt = None,
    validate: Annotated[
        bool, typer.Option("--validate/--no-validate", help="Reject lines the projector would dead-letter.")
    ] = True,
    wire_format: FormatOpt = WireFormat.json,
    schema_registry: RegistryOpt = None,
) -> None:
    """Produce CloudEvents from a JSONL file: `type`, `id`, `time`, `data`, optional `source`, `topic`, `key`.

    The topic is the one of the event type (with the topic prefix) unless the line names one. Bad lines
    are reported with their line number and skipped; the exit code is 1 when there were any. With
    `--format avro` the values are Avro as a real LMS writes them (validated lines only).
    """
    from aiokafka.errors import KafkaError

    from projectors.schema_registry import RegistryUnavailable
    from tools.eventio import produce_messages
    from tools.jsonl import JsonlLineError, iter_messages

    target = _target(bootstrap, topic_prefix, schema_registry)
    registry = None
    if wire_format is WireFormat.avro:
        if not validate:
            typer.echo("error: --format avro writes validated events only (drop --no-validate)", err=True)
            raise typer.Exit(2)
        registry = target.registry()
        if registry is None:
            typer.echo("error: --format avro needs a schema registry (--schema-registry, LP_SCHEMA_REGISTRY_URL)",
                       err=True)
            raise typer.Exit(2)
    errors: list[JsonlLineError] = []

    def report(error: JsonlLineError) -> None:
        errors.append(error)
        typer.echo(f"{file}:{error}", err=True)

    try:
        with _open_lines(file) as lines:
            messages = iter_messages(lines, report, topic_prefix=target.topic_prefix, validate=validate)
            counts = asyncio.run(produce_messages(target.bootstrap, messages, avro=registry))
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"error: cannot read {file}: {exc}", err=True)
        raise typer.Exit(2) from None
    except KafkaError as exc:
        typer.echo(f"error: Kafka at {target.bootstrap}: {exc!r}", err=True)
        raise typer.Exit(2) from None
    except RegistryUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for topic, n in sorted(counts.items()):
        typer.echo(f"{n:6d}  {topic}")
    typer.echo(f"produced {sum(counts.values())} event(s) ({wire_format.value}) to {target.bootstrap}; "
               f"{len(errors)} bad line(s)")
    if errors:
        raise typer.Exit(1)


def tail(
    topic: Annotated[str, typer.Argument(help="Topic to follow, e.g. learning-completion or its .dlq.")],
    from_beginning: Annotated[bool, typer.Option("--from-beginning", help="Start at the oldest message.")] = False,
    max_messages: Annotated[int | None, typer.Option("--max", min=1, help="Stop after N messages.")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", min=0, help="Stop after this many seconds.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per message.")] = False,
    bootstrap: BootstrapOpt = None,
    topic_prefix: PrefixOpt = None,
    schema_registry: RegistryOpt = None,
) -> None:
    """Follow a topic and print each message: decoded events (JSON or Avro, the format shown), and dead
    letters with their reasons. Avro values are decoded with their writer schema from the registry."""
    from tools.eventio import TailError, full_topic
    from tools.eventio import tail as follow
    from tools.jsonl import format_line

    target = _target(bootstrap, topic_prefix, schema_registry)

    def show(record: dict[str, Any]) -> None:
        typer.echo(orjson.dumps(record).decode() if as_json else format_line(record))

    name = full_topic(topic, target.topic_prefix)
    try:
        asyncio.run(follow(target.bootstrap, name, show, from_beginning=from_beginning,
                           max_messages=max_messages, stop_after=timeout, registry=target.registry()))
    except TailError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        pass


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `lp` app."""
    app.command("produce")(produce)
    app.command("tail")(tail)
