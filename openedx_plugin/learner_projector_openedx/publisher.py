"""Hands events to openedx-events' event bus without ever holding up, or failing, an LMS request.

Why not call `signal.send_event` in the request: edx-event-bus-kafka serializes in the caller's
thread, and its schema-registry client (confluent-kafka 2.16) retries an unreachable registry
three times with backoff of up to 20 s and has no HTTP timeout by default, so a registry outage
would stall every request that saves a completion. So a receiver only puts the event on a bounded
in-process queue (after the database transaction commits: a rolled-back save publishes nothing),
and one daemon thread per process sends it through `send_event(time=...)`, i.e. through the
operator's `EVENT_BUS_PRODUCER_CONFIG` and producer exactly as upstream events go.

Nothing here raises into the caller. What could not be published is logged and counted
(`stats()`): `dropped` (queue full), `failed` (building or sending raised), and `producer_errors`
(edx-event-bus-kafka's own delivery errors for our types, which it logs and swallows; counted
from its log records). The backfill (`lp_backfill`) republishes a site's state to repair gaps.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction
from openedx_events.tooling import OpenEdxPublicSignal

from learner_projector_openedx.times import utc

log = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = 10_000
EXIT_GRACE_SECONDS = 5.0
Event = tuple[OpenEdxPublicSignal, Mapping[str, Any], datetime]
_PRODUCER_LOGGER = "edx_event_bus_kafka.internal.producer"


def send(signal: OpenEdxPublicSignal, payload: Mapping[str, Any], time: datetime) -> bool:
    """Send one event now, in this thread, with `time` as its `ce_time`; False when it failed.

    `send_event` runs openedx-events' bus handler (and any other receiver) robustly: a receiver's
    exception comes back as its response, and we count it as a failure."""
    try:
        responses = signal.send_event(time=utc(time), **payload)
    except Exception:  # settings.DEBUG makes openedx-events re-raise receivers' exceptions
        log.exception("learner-projector: could not send %s", signal.event_type)
        return False
    errors = [r for _, r in responses if isinstance(r, Exception)]
    for error in errors:
        log.error("learner-projector: a receiver of %s failed: %r", signal.event_type, error)
    return not errors


class Publisher:
    """A bounded queue and one sending thread, started on first use in each process (fork-safe)."""

    def __init__(self, sender: Callable[[OpenEdxPublicSignal, Mapping[str, Any], datetime], bool] = send):
        self._sender = sender
        self._queue: queue.Queue[tuple[str, Callable[[], Iterable[Event]]]] | None = None
        self._pid = 0
        self._lock = threading.RLock()
        self.counts: Counter[str] = Counter()

    def submit(self, signal: OpenEdxPublicSignal, payload: Mapping[str, Any], time: datetime) -> None:
        """Queue an event for sending; never blocks and never raises."""
        self.submit_job(signal.event_type, lambda: [(signal, payload, time)])

    def submit_job(self, name: str, job: Callable[[], Iterable[Event]]) -> None:
        """Queue work that builds events in the sending thread (e.g. a course snapshot, too slow for
        the request), which then sends them. Never blocks or raises."""
        try:
            self._ensure_started().put_nowait((name, job))
            self._count("queued")
        except queue.Full:
            self._count("dropped")
            log.warning("learner-projector: queue full, %s not published (%d dropped so far; lp_backfill repairs)",
                        name, self.counts["dropped"])
        except Exception:
            self._count("failed")
            log.exception("learner-projector: could not queue %s", name)

    def submit_on_commit(self, signal: OpenEdxPublicSignal, payload: Mapping[str, Any], time: datetime) -> None:
        """Queue the event once the current transaction commits (now, outside a transaction)."""
        try:
            transaction.on_commit(lambda: self.submit(signal, payload, time))
        except Exception:
            self._count("failed")
            log.exception("learner-projector: could not schedule %s", signal.event_type)

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event was handed to the bus (tests, shutdown); False on timeout."""
        q = self._queue
        if q is None or self._pid != os.getpid():
            return True
        done = threading.Event()

        def wait() -> None:
            q.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

    def _count(self, name: str) -> None:
        with self._lock:
            self.counts[name] += 1

    def stats(self) -> dict[str, int]:
        return {**self.counts, "producer_errors": PRODUCER_ERRORS.count}

    def _ensure_started(self) -> queue.Queue[tuple[str, Callable[[], Iterable[Event]]]]:
        if self._queue is not None and self._pid == os.getpid():
            return self._queue
        with self._lock:
            if self._queue is None or self._pid != os.getpid():  # first use, or a forked worker
                size = getattr(settings, "LEARNER_PROJECTOR_QUEUE_SIZE", DEFAULT_QUEUE_SIZE)
                self._queue = queue.Queue(maxsize=size)
                self._pid = os.getpid()
                threading.Thread(target=self._run, args=(self._queue,), name="learner-projector-publisher",
                                 daemon=True).start()
                atexit.register(self._at_exit)
        return self._queue

    def _at_exit(self) -> None:
        """Give what is still queued a few seconds at process exit (a daemon thread dies with it)."""
        if not self.drain(EXIT_GRACE_SECONDS):
            log.warning("learner-projector: exiting with unsent events (lp_backfill repairs)")

    def _run(self, q: queue.Queue[tuple[str, Callable[[], Iterable[Event]]]]) -> None:
        while True:
            name, job = q.get()
            try:
                close_old_connections()  # jobs and receivers of our signals may read the database
                for event in job():
                    self._count("sent" if self._sender(*event) else "failed")
            except Exception:
                self._count("failed")
                log.exception("learner-projector: could not send %s", name)
            finally:
                q.task_done()


class _ProducerErrorCount(logging.Handler):
    """Counts edx-event-bus-kafka's "Error delivering message" records that name one of our types."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if "OpenEdxPublicSignal: ext." in record.getMessage():
                self.count += 1
        except Exception:  # a handler never raises into the logger's caller
            self.handleError(record)


PRODUCER_ERRORS = _ProducerErrorCount()


def watch_producer_errors() -> None:
    """Attach the counter to edx-event-bus-kafka's producer logger (idempotent)."""
    logger = logging.getLogger(_PRODUCER_LOGGER)
    if PRODUCER_ERRORS not in logger.handlers:
        logger.addHandler(PRODUCER_ERRORS)



def guarded(receiver: Callable[..., None]) -> Callable[..., None]:
    """A signal receiver that logs and counts its failure instead of raising into the LMS request."""

    def run(*args: Any, **kwargs: Any) -> None:
        try:
            receiver(*args, **kwargs)
        except Exception:
            PUBLISHER._count("failed")
            log.exception("learner-projector: receiver %s failed", receiver.__name__)

    run.__name__ = receiver.__name__
    run.__qualname__ = receiver.__qualname__
    run.__doc__ = receiver.__doc__
    run.__module__ = receiver.__module__
    return run


def flush_producer() -> None:
    """Wait for the event bus producer's buffered messages (edx-event-bus-kafka: `prepare_for_shutdown`)."""
    from openedx_events.event_bus import get_producer

    flush = getattr(get_producer(), "prepare_for_shutdown", None)
    if flush is not None:
        flush()


PUBLISHER = Publisher()
