"""`lp` sub-commands: rebuild. Each command module registers its commands on the typer app."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `lp` app."""
