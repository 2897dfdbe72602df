"""`python -m bench` (what `lp bench` runs): the benchmark suite's command line.

bench/ sits on top of tools/ (it starts the stack with tools.stack) and is repository tooling, not an
installed package: `lp bench` runs this module in a subprocess from the repository root instead of
importing it, so tools never import bench.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bench.run import Config, relative, render, run

app = typer.Typer(add_completion=False)


@app.command()
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="Small sizes: the suite in about 2 minutes.")] = False,
    events: Annotated[int | None, typer.Option(help="Events in the history (1,000,000; quick 30,000).")] = None,
    api_seconds: Annotated[float | None, typer.Option(help="Seconds of wrk per API route.")] = None,
    freshness_seconds: Annotated[float | None, typer.Option(help="Seconds of the freshness run.")] = None,
    profile: Annotated[bool, typer.Option("--profile/--no-profile",
                                          help="py-spy the projector and API, after the measured rows.")] = True,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic history.")] = 7,
    rebuild_arg: Annotated[list[str] | None, typer.Option(help="Extra argument for `lp rebuild`.")] = None,
    out: Annotated[Path | None, typer.Option(help="JSON file (default bench/results/latest.json).")] = None,
    keep: Annotated[bool, typer.Option(help="Keep the stack's folder (logs) after the run.")] = False,
    only: Annotated[str, typer.Option(help="Steps besides the projector, comma-separated (default all): "
                                       "memory, projector2, api, freshness, longpoll, rebuild, avro, cluster; "
                                       "and the diagnostic course-stopped (the course route with the live "
                                       "projector stopped; only when named, beside api).")] = "",
) -> None:
    """Run the benchmark suite on real Kafka and Redis; print the table, write it as JSON."""
    config = Config.quick() if quick else Config()
    config.events = events if events is not None else config.events
    config.api_seconds = api_seconds if api_seconds is not None else config.api_seconds
    config.freshness_seconds = freshness_seconds if freshness_seconds is not None else config.freshness_seconds
    config.profile, config.seed, config.keep = profile, seed, keep
    config.rebuild_args = list(rebuild_arg or [])
    config.out = out or config.out
    config.only = frozenset(s.strip() for s in only.split(",") if s.strip()) or None
    try:
        doc = run(config, say=lambda line: typer.echo(line, err=True))
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None
    typer.echo("")
    typer.echo(render(doc))
    typer.echo("")
    typer.echo(f"written: {relative(config.out)} and {relative(config.out.with_suffix('.md'))}")


if __name__ == "__main__":
    app()
