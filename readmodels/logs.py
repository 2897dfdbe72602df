"""Structured logs: one JSON object per line, for the API and the projector alike.

stdlib logging with a small orjson formatter rather than a logging library: orjson is already a
dependency, the formatter is a screen long, and every library we run (uvicorn, faust, aiokafka,
redis-py) logs through stdlib logging anyway, so one formatter on the root handler covers them all.

The API's request id travels in a context variable (set by api/observability.py for the duration
of a request), so every line logged while serving that request carries it, whichever module logs.
"""

from __future__ import annotations

import logging
import logging.config
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra=` and is emitted.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "msg", "request_id"?, "exc"?, ...extra}` on one line."""

    def __init__(self, service: str = "") -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if self.service:
            entry["service"] = self.service
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=repr).decode()


def logging_config(level: str, service: str) -> dict[str, Any]:
    """A dictConfig that sends every logger through one JSON handler on stderr (the projector's
    faust/mode Worker takes this as its `logging_config`)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter, "service": service}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"level": level.upper(), "handlers": ["stderr"]},
    }


def configure_logging(level: str, service: str, *, also: tuple[str, ...] = ()) -> bool:
    """JSON logs on stderr for this process, like `logging.basicConfig`: nothing happens when the
    root logger already has handlers (a test runner's, or an application embedding us).

    `also` names loggers that keep handlers of their own (uvicorn's): their handlers get the JSON
    formatter too. Returns whether anything was configured.
    """
    root = logging.getLogger()
    if root.handlers:
        return False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in also:
        for h in logging.getLogger(name).handlers:
            h.setFormatter(JsonFormatter(service))
    return True
