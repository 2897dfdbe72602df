"""Program progress counting (API.md "Counting"), shared by the program routes and the course
route's `related_programs`. Pure: program document + learner facts + now -> progress.

Interface (stable; the course route depends on it):

    progress(program: dict, user: UserFacts, now: datetime, *, enterprise_uuid: str | None = None)
        -> ProgramProgress

`program` is the stored program document (events.catalog.ProgramSnapshot as JSON);
`enterprise_uuid` restricts the learner's enrollments to those linked to that enterprise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from readmodels.facts import UserFacts


@dataclass(frozen=True)
class ProgramProgress:
    completed: list[dict[str, Any]] = field(default_factory=list)  # catalog course objects
    in_progress: list[dict[str, Any]] = field(default_factory=list)
    not_started: list[dict[str, Any]] = field(default_factory=list)
    all_unenrolled: bool = True

    def counts(self) -> dict[str, Any]:
        return {
            "completed": len(self.completed),
            "in_progress": len(self.in_progress),
            "not_started": len(self.not_started),
            "all_unenrolled": self.all_unenrolled,
        }


def progress(
    program: dict[str, Any], user: UserFacts, now: datetime, *, enterprise_uuid: str | None = None
) -> ProgramProgress:
    raise NotImplementedError("filled in by the program routes work")
