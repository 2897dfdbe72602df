"""The Open edX libraries' own virtualenv (`.venv-openedx`), for tests and fixture scripts.

openedx-events, edx-event-bus-kafka, confluent-kafka and Django are test-only dependencies: they
must not enter the product's runtime (pyproject.toml), and Django must never be configured inside
the main pytest process. So they live in a virtualenv of their own, made on first use from
`requirements.txt` beside this file and re-made when that file changes (keyed by its hash, as
`./lp` does for `.venv`); scripts run there with `openedx_python()` as the interpreter.

To add a library, add its pin to requirements.txt: the next call installs it. The Open edX plugin
(openedx_plugin/, issue #14) is installed from there in editable mode (pip runs from the
repository root); a change of its pyproject.toml (entry points, dependencies) also re-installs.
"""

from __future__ import annotations

import fcntl
import hashlib
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = Path(__file__).with_name("requirements.txt")
VENV = ROOT / ".venv-openedx"
PLUGIN_PROJECT = ROOT / "openedx_plugin" / "pyproject.toml"


class OpenedxEnvError(RuntimeError):
    """The environment could not be made; the message has pip's last lines."""


def openedx_python() -> Path:
    """The interpreter of `.venv-openedx`, installed from requirements.txt if it is missing or stale.

    Safe to call from parallel processes (a file lock); a fresh install takes well under a minute
    from wheels (pip's cache makes later ones a few seconds)."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + PLUGIN_PROJECT.read_bytes()).hexdigest()[:16]
    python = VENV / "bin" / "python"
    stamp = VENV / f".installed-{digest}"
    if stamp.exists():
        return python
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(ROOT / ".venv-openedx.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists():  # another process made it while we waited
            return python
        began = time.monotonic()
        if not python.exists():
            _run([sys.executable, "-m", "venv", str(VENV)])  # from .venv: a venv of the same base Python
        _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(REQUIREMENTS)])
        for old in VENV.glob(".installed-*"):
            old.unlink()
        stamp.write_text(f"installed in {time.monotonic() - began:.1f} s\n")
    return python


def _run(cmd: list[str]) -> None:
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if out.returncode != 0:
        tail = "\n".join((out.stderr or out.stdout).strip().splitlines()[-15:])
        raise OpenedxEnvError(f"{' '.join(cmd[:4])} ... failed ({out.returncode}):\n{tail}")


if __name__ == "__main__":
    print(openedx_python())
