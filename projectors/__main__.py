"""`python -m projectors worker`: run the projector worker with settings from the environment."""

from __future__ import annotations

import sys

from faust.worker import Worker

from projectors.app import create_app
from readmodels.logs import logging_config
from readmodels.settings import SettingsError, load_settings


def main(argv: list[str]) -> int:
    if argv[:1] != ["worker"]:
        print("usage: python -m projectors worker", file=sys.stderr)
        return 2
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    app = create_app(settings)
    worker = Worker(
        app,
        loglevel=settings.log_level.lower().replace("warning", "warn"),
        quiet=True,
        logging_config=logging_config(settings.log_level, "projector"),  # JSON lines
    )
    worker.execute_from_commandline()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
