"""Catalog programs -> `ext.catalog.program.changed.v1` / `.deleted.v1`, from the LMS's catalog cache.

The LMS keeps course-discovery's programs in its cache (the `cache_programs` command, run by
cron, refreshes it) and sends no signal when it does, so programs are published by a command run
after it (`manage.py lms lp_publish_programs`) and by the backfill. A program is sent when its
snapshot differs from the one this site last sent (a digest kept in the Django cache: an evicted
digest only means one harmless resend, snapshots replace each other) and a program that left the
cache is sent as deleted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import attr
from django.core.cache import cache

from learner_projector_openedx import data, edx_platform, signals
from learner_projector_openedx.snapshots.program import build_program
from learner_projector_openedx.times import now

DIGEST_KEY = "learner_projector.program.{}"
UUIDS_KEY = "learner_projector.program_uuids"


@dataclass
class ProgramCounts:
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0


def digest(snapshot: data.ProgramSnapshot) -> str:
    body = json.dumps(attr.asdict(snapshot), sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def snapshots() -> list[data.ProgramSnapshot]:
    programs = edx_platform.cached_programs()
    wanted = {i for p in programs for i in p.get("pathway_ids") or []}
    pathways = edx_platform.cached_pathways(wanted) if wanted else []
    return [build_program(p, [w for w in pathways if w.get("id") in set(p.get("pathway_ids") or [])])
            for p in programs]


def forget_sent() -> None:
    """Forget every digest, so the next run sends every program (after the bus lost some)."""
    uuids = cache.get(UUIDS_KEY) or ()
    cache.delete_many([DIGEST_KEY.format(u) for u in uuids])


def publish_programs(sender: Callable[[Any, dict[str, Any], datetime], bool], force: bool = False) -> ProgramCounts:
    """Send what changed in the catalog cache since the last run (everything with `force`).
    A digest is kept once the event is handed to the producer; a caller that then sees delivery
    errors calls `forget_sent()`."""
    counts = ProgramCounts()
    current = snapshots()
    time = now()
    for snapshot in current:
        key, value = DIGEST_KEY.format(snapshot.uuid), digest(snapshot)
        if not force and cache.get(key) == value:
            counts.unchanged += 1
        elif sender(signals.PROGRAM_CHANGED, {"program": snapshot}, time):
            cache.set(key, value, None)
            counts.changed += 1
        else:
            counts.failed += 1
    uuids = {s.uuid for s in current}
    for gone in sorted(set(cache.get(UUIDS_KEY) or ()) - uuids):
        if sender(signals.PROGRAM_DELETED, {"program": data.ProgramRef(uuid=gone)}, time):
            cache.delete(DIGEST_KEY.format(gone))
            counts.deleted += 1
        else:
            counts.failed += 1
            uuids.add(gone)  # try again next run
    cache.set(UUIDS_KEY, sorted(uuids), None)
    return counts
