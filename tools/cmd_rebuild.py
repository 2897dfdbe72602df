"""`lp` sub-commands: rebuild, verify, generations, subscribe. Each command module registers its
commands on the typer app."""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from readmodels.settings import Settings

console = Console()
# The end of the line that reports a switch: `switched: ...; <N> events replayed` (bench/rebuild.py
# reads N from it).
REPLAYED = "events replayed"


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} events/s" if speed else "- events/s", style="progress.data.speed")


def _settings() -> Settings:
    from readmodels.settings import SettingsError, load_settings

    try:
        return load_settings()
    except SettingsError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None


def rebuild(
    fresh: Annotated[bool, typer.Option("--fresh", help="Start over instead of resuming a rebuild.")] = False,
    keep_old: Annotated[bool, typer.Option("--keep-old", help="Keep the previous generation (for verify).")] = False,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, help="Processes replaying disjoint partitions side by side (default: the cores).")] = None,
) -> None:
    """Project the whole retained history into a new generation, switch the API to it when it has
    caught up, and delete the old generation in the background."""
    settings = _settings()
    try:
        code = asyncio.run(_rebuild(settings, fresh=fresh, keep_old=keep_old, workers=workers or os.cpu_count() or 1))
    except KeyboardInterrupt:
        console.print("interrupted: the serving generation is untouched; `lp rebuild` resumes, `--fresh` starts over")
        code = 130
    raise typer.Exit(code)


async def _rebuild(settings: Settings, *, fresh: bool, keep_old: bool, workers: int) -> int:
    from projectors.rebuild import RebuildError, rebuild_lock
    from readmodels.redis_client import make_redis

    redis = make_redis(settings.redis_url)
    try:
        async with rebuild_lock(redis, settings.redis_namespace):
            return await _rebuild_locked(redis, settings, fresh=fresh, keep_old=keep_old, workers=workers)
    except RebuildError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1
    finally:
        await redis.aclose()


async def _rebuild_locked(redis: Redis, settings: Settings, *, fresh: bool, keep_old: bool, workers: int) -> int:
    from projectors import rebuild_workers
    from projectors.rebuild import RebuildProgress, retire, run_rebuild, start_or_resume

    plan = await start_or_resume(redis, settings, fresh=fresh)
    verb = "resuming" if plan.resumed else "building"
    console.print(f"{verb} generation {plan.generation} (serving: {plan.source}, group {plan.group}, "
                  f"{workers} worker{'s' if workers > 1 else ''})")
    columns = [TextColumn("[bold]rebuild g{task.fields[gen]}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("events"), RateColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("rebuild", total=None, gen=plan.generation)

        def show(p: RebuildProgress) -> None:
            bar.update(task, completed=p.done, total=max(p.total, 1))

        share_out = rebuild_workers.in_workers(workers) if workers > 1 else None
        outcome = await run_rebuild(redis, settings, plan, on_progress=show, share_out=share_out)
    console.print(f"switched: generation {plan.generation} serves (was {plan.source}); "
                  f"{outcome.events} {REPLAYED}")
    if keep_old:
        console.print(f"kept generation {plan.source}; `lp verify {plan.source} {plan.generation}` compares them")
    else:
        with console.status(f"deleting generation {plan.source} in the background (SCAN + UNLINK) ..."):
            n = await retire(redis, settings, plan.source)
        console.print(f"deleted generation {plan.source} ({n} keys)")
    return 0


def verify(
    a: Annotated[int | None, typer.Argument(help="A generation (default: the serving one).")] = None,
    b: Annotated[int | None, typer.Argument(help="The other generation (default: the serving one).")] = None,
    oracle: Annotated[bool, typer.Option("--oracle", help="Compare A with the oracle fold of its history.")] = False,
) -> None:
    """Compare two generations (or one with the oracle fold of the history it applied) and print
    every entity whose read model differs, with the differing fields. Exit 0 only when equal."""
    settings = _settings()
    raise typer.Exit(asyncio.run(_verify(settings, a, b, oracle=oracle)))


async def _verify(settings: Settings, a: int | None, b: int | None, *, oracle: bool) -> int:
    from readmodels.generations import current_generation
    from readmodels.redis_client import make_redis
    from tools.verify import compare_generations, compare_with_oracle

    redis = make_redis(settings.redis_url)
    try:
        ns = settings.redis_namespace
        serving = await current_generation(redis, ns)
        a = a if a is not None else serving
        if oracle:
            left, right = f"g{a}", "oracle"
            diffs = await compare_with_oracle(redis, settings, a)
        else:
            b = b if b is not None else serving
            left, right = f"g{a}", f"g{b}"
            diffs = await compare_generations(redis, ns, a, b)
    finally:
        await redis.aclose()
    for d in diffs:
        console.print(f"[bold]{d.key}[/]", highlight=False)
        for name, (va, vb) in d.fields.items():
            console.print(f"  {name or '(value)'}: {left}={va!r}  {right}={vb!r}", highlight=False, markup=False)
    console.print(f"{len(diffs)} entities differ between {left} and {right}", highlight=False)
    return 1 if diffs else 0


def generations_cmd() -> None:
    """List the generations that exist and the one that serves."""
    settings = _settings()

    async def run() -> tuple[int, list[int]]:
        from readmodels.generations import current_generation, generations
        from readmodels.redis_client import make_redis

        redis = make_redis(settings.redis_url)
        try:
            return await current_generation(redis, settings.redis_namespace), await generations(
                redis, settings.redis_namespace)
        finally:
            await redis.aclose()

    serving, gens = asyncio.run(run())
    for g in gens:
        console.print(f"g{g}{'  (serving)' if g == serving else ''}")


def subscribe(
    max_seconds: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
    once: Annotated[bool, typer.Option("--once", help="Read up to the current end, print once and stop.")] = False,
) -> None:
    """Follow projected-program-progress: learners per program by progress bucket, live."""
    from tools.subscribe import BUCKETS, ProgramBuckets, follow

    settings = _settings()

    def render(b: ProgramBuckets) -> Table:
        table = Table(title=f"learners per program ({b.records} records, {b.duplicates} duplicates skipped)")
        table.add_column("program")
        for name in BUCKETS:
            table.add_column(name, justify="right")
        for program, counts in b.table().items():
            table.add_row(program, *(str(counts.get(name, 0)) for name in BUCKETS))
        return table

    buckets = ProgramBuckets()
    topic = settings.topic("projected-program-progress")
    if once:
        asyncio.run(follow(settings.kafka_bootstrap, topic, buckets, max_seconds=max_seconds, once=True))
        console.print(render(buckets))
        return
    # Ctrl-C is how a follower ends.
    with Live(render(buckets), console=console, refresh_per_second=4) as live, contextlib.suppress(KeyboardInterrupt):
        asyncio.run(follow(settings.kafka_bootstrap, topic, buckets, max_seconds=max_seconds,
                           on_update=lambda b: live.update(render(b))))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `lp` app."""
    app.command()(rebuild)
    app.command()(verify)
    app.command(name="generations")(generations_cmd)
    app.command()(subscribe)
