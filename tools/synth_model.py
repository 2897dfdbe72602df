"""The people and the clock of a synthetic history: its configuration, the sources that emit, the
timeline that holds raw events per day, and the learners with their enrollments."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from events import EventData
from events.common import UserData
from tools.synth_catalog import (
    DAY,
    SynthCourse,
    SynthProgram,
    rng_uuid,
)

LMS = "openedx/lms/web"
CMS = "openedx/cms/web"
DISCOVERY = "openedx/discovery/web"
API = "learner-projector/api"

FIRST_LEARNER_ID = 1001
FIRST_STAFF_ID = 101
# IANA names with a rough standard offset (hours), used only to place sessions in a local day.
TIME_ZONES = (
    ("America/New_York", -5), ("America/Chicago", -6), ("America/Los_Angeles", -8), ("America/Sao_Paulo", -3),
    ("America/Mexico_City", -6), ("Europe/London", 0), ("Europe/Berlin", 1), ("Europe/Madrid", 1),
    ("Africa/Lagos", 1), ("Africa/Cairo", 2), ("Asia/Kolkata", 5.5), ("Asia/Shanghai", 8), ("Asia/Tokyo", 9),
    ("Australia/Sydney", 10), ("UTC", 0),
)
FIRST_NAMES = ("Ana", "Ben", "Chen", "Dara", "Emre", "Fatima", "Gabriel", "Hana", "Ivan", "Jun", "Kofi", "Lena",
               "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Vera", "Wei", "Yusuf")
LAST_NAMES = ("Silva", "Smith", "Wang", "Okafor", "Garcia", "Kumar", "Müller", "Nakamura", "Rossi", "Cohen",
              "Novak", "Haddad", "Kim", "Dubois", "Ivanova", "Mensah")

Raw = tuple[datetime, str, type[EventData], dict[str, Any], str]


@dataclass(frozen=True, slots=True)
class Config:
    seed: int = 1
    learners: int = 500
    courses: int = 12
    programs: int = 4
    days: int = 60
    start: date = date(2026, 1, 5)


class Timeline:
    """Per-day buckets of raw events; a day is sorted and released once it has been simulated."""

    def __init__(self, rng: random.Random, origin: datetime, days: int) -> None:
        self.rng = rng
        self.origin = origin
        self.buckets: list[list[Raw]] = [[] for _ in range(days)]
        self.today = 0

    def emit(self, cls: type[EventData], t: datetime, data: dict[str, Any], source: str = LMS) -> None:
        eid = rng_uuid(self.rng)
        day = max(self.today, (t - self.origin) // DAY)
        if day < len(self.buckets):
            self.buckets[day].append((t, eid, cls, data, source))

    def release(self, day: int) -> list[Raw]:
        batch = self.buckets[day]
        self.buckets[day] = []
        batch.sort(key=lambda r: (r[0], r[1]))
        return batch


@dataclass(slots=True)
class Enrollment:
    course: SynthCourse
    mode: str
    created: datetime
    active: bool = True
    ptr: int = 0  # next FlatBlock to complete
    unit: str = ""  # unit last opened
    scores: dict[int, float] = field(default_factory=dict)  # graded sequence index -> score
    percent: float = 0.0
    passing: bool | None = None
    passed_at: datetime | None = None
    cert: str = ""  # current certificate status
    goal: int | None = None
    goal_asked: bool = False
    first_section_acked: bool = False
    weekly_acked: int = -1  # ISO week last acknowledged
    week_days: dict[int, set[int]] = field(default_factory=dict)  # ISO week -> days with a visit
    signed: bool = False
    linked: bool = False
    bookmarks: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Learner:
    uid: int
    user: UserData
    join_day: int
    engagement: float
    skill: float
    tz: str
    tz_offset: float
    enterprise: str | None
    program: SynthProgram | None  # a learner working through a program, course after course
    idv: str = "none"
    idv_attempts: int = 0
    enrollments: dict[str, Enrollment] = field(default_factory=dict)
    program_certs: dict[str, bool] = field(default_factory=dict)


def user_data(uid: int, username: str, name: str) -> UserData:
    return UserData.model_validate({"id": uid, "is_active": True,
                                    "pii": {"username": username, "email": f"{username}@example.com", "name": name}})
