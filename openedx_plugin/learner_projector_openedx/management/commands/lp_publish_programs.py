"""`manage.py lms lp_publish_programs [--all]`: publish the catalog programs that changed in the LMS's
cache since the last run (programs.py); run it after `cache_programs` (e.g. in the same cron line)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from learner_projector_openedx import publisher
from learner_projector_openedx.programs import forget_sent, publish_programs


class Command(BaseCommand):
    help = "Publish changed catalog programs from the LMS's catalog cache as learner-projector events."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--all", action="store_true", help="send every cached program, changed or not")

    def handle(self, *args: Any, all: bool = False, **options: Any) -> None:
        publisher.watch_producer_errors()
        errors_before = publisher.PRODUCER_ERRORS.count
        counts = publish_programs(publisher.send, force=all)
        publisher.flush_producer()
        if publisher.PRODUCER_ERRORS.count > errors_before:  # delivery failed after the hand-over
            forget_sent()
            counts.failed += publisher.PRODUCER_ERRORS.count - errors_before
        self.stdout.write(f"programs: {counts.changed} sent, {counts.unchanged} unchanged, "
                          f"{counts.deleted} deleted, {counts.failed} failed")
        if counts.failed:
            raise CommandError(f"{counts.failed} program events were not published (see the log)")
