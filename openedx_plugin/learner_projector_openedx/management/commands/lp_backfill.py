"""`manage.py lms lp_backfill [--since DATE] [--course KEY]... [--only NAME]... [--chunk N]`

Publishes the LMS's existing state as events with their original times (backfill.py), source by
source, with a progress line per chunk; then `lp rebuild` builds the read models from them.
Exits non-zero when any event could not be published (re-run it: it is idempotent).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from learner_projector_openedx import backfill, publisher
from learner_projector_openedx.programs import publish_programs


def parse_since(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since: not an ISO date or time: {value!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def parse_course(value: str) -> CourseKey:
    try:
        return CourseKey.from_string(value)
    except InvalidKeyError:
        raise CommandError(f"--course: not a course key: {value!r}") from None


class Command(BaseCommand):
    help = "Publish the LMS's existing learner state as learner-projector events (then run `lp rebuild`)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--since", type=parse_since, help="only rows changed at or after this ISO date/time")
        parser.add_argument("--course", type=parse_course, action="append", default=[],
                            help="only this course run (repeatable)")
        parser.add_argument("--only", action="append", default=[], choices=backfill.source_names(),
                            help="only this source (repeatable)")
        parser.add_argument("--chunk", type=int, default=1000, help="rows per chunk (default 1000)")

    def handle(self, *args: Any, since: datetime | None = None, course: list[CourseKey], only: list[str],
               chunk: int, **options: Any) -> None:
        if chunk < 1:
            raise CommandError("--chunk must be at least 1")
        publisher.watch_producer_errors()
        errors_before = publisher.PRODUCER_ERRORS.count
        wanted = set(only) or set(backfill.source_names())
        total = backfill.Report()
        if "courses" in wanted:
            self._run("courses", [list(backfill.course_events(course))], total)
        if "programs" in wanted and not course:
            counts = publish_programs(publisher.send, force=True)
            total.events += counts.changed + counts.deleted
            total.failed += counts.failed
            self.stdout.write(f"programs: {counts.changed} sent, {counts.deleted} deleted, {counts.failed} failed")
        for source in backfill.SOURCES:
            if source.name in wanted:
                self._run(source.name, (list(source.events(c)) for c in backfill.chunks(source, since, course, chunk)),
                          total, rows_of=True)
        total.failed += publisher.PRODUCER_ERRORS.count - errors_before
        self.stdout.write(f"done: {total.rows:,} rows, {total.events:,} events, {total.failed:,} not published")
        if total.failed:
            raise CommandError(f"{total.failed} events were not published (see the log); run lp_backfill again")

    def _run(self, name: str, batches: Any, total: backfill.Report, rows_of: bool = False) -> None:
        began, rows, events, failed = time.monotonic(), 0, 0, 0
        for batch in batches:
            rows += len(batch)
            for event in batch:
                if event is None:
                    continue
                if publisher.send(*event):
                    events += 1
                else:
                    failed += 1
            publisher.flush_producer()
            rate = rows / max(time.monotonic() - began, 1e-6)
            self.stdout.write(f"{name}: {rows:,} {'rows' if rows_of else 'items'}, {events:,} events"
                              f"{f', {failed:,} failed' if failed else ''} ({rate:,.0f}/s)")
        if not rows:
            self.stdout.write(f"{name}: nothing to publish")
        total.rows += rows
        total.events += events
        total.failed += failed
