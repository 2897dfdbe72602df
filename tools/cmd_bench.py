"""`lp` sub-commands: bench. Each command module registers its commands on the typer app.

`lp bench` runs the suite's own command line (`python -m bench`, bench/__main__.py) from the
repository root, with the arguments as given (`lp bench --help` lists them): bench/ sits on top of
tools/, so tools never imports it.
"""

from __future__ import annotations

import subprocess
import sys

import typer

from tools.stack import ROOT


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `lp` app."""

    @app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
                 add_help_option=False)
    def bench(ctx: typer.Context) -> None:
        """Run the benchmark suite on real Kafka and Redis (`lp bench --help` for its options)."""
        try:
            done = subprocess.run([sys.executable, "-m", "bench", *ctx.args], cwd=ROOT, check=False)
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        raise typer.Exit(done.returncode)
