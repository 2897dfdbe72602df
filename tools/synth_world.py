"""The simulated platform behind a synthetic history: reference data on day 0, then day by day
the catalog changes and every learner's sessions.

The simulation emits *raw* events `(time, id, payload class, data dict, source)` into per-day
buckets (an event may be scheduled for a later day: a certificate that turns downloadable hours
after it was requested). A day's bucket is sorted by (time, id) when the day is over, so the
history comes out in time order while only future-scheduled events are held. Turning raw events
into validated `Event`s is left to the caller (tools/synthetic.py), so counting a history is a
dry run that skips validation.

Every random draw comes from one `random.Random` in a fixed order: one seed, one history.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from events import EventData
from events.activity import (
    BookmarkChanged,
    CelebrationAcknowledged,
    CourseGoalChanged,
    CoursewareVisited,
    IdvAttemptApproved,
    IdvAttemptCreated,
    IdvAttemptDenied,
    IdvAttemptPending,
    IntegritySignatureCreated,
    SequencePositionChanged,
    UserPreferenceChanged,
)
from events.catalog import ProgramChanged, ProgramDeleted
from events.certificates import (
    CertificateChanged,
    CertificateCreated,
    CertificateRevoked,
    ProgramCertificateAwarded,
    ProgramCertificateRevoked,
)
from events.common import UserData
from events.completion import BlockCompletionChanged
from events.content import CourseAccessRoleAdded, CourseAccessRoleRemoved, CourseCatalogInfoChanged, CoursePublished
from events.enrollment import (
    CourseEnrollmentChanged,
    CourseEnrollmentCreated,
    CourseUnenrollmentCompleted,
    EnterpriseEnrollmentLinked,
    EnterpriseEnrollmentUnlinked,
)
from events.grades import CoursePassingStatusUpdated, PersistentGradeSummaryChanged, SubsectionGradeChanged
from tools.synth_catalog import (
    DAY,
    SynthCourse,
    SynthProgram,
    change_outline,
    make_courses,
    make_programs,
    program_snapshot,
    rng_hex,
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


class World:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.rng = rng = random.Random(cfg.seed)
        self.origin = datetime(cfg.start.year, cfg.start.month, cfg.start.day, tzinfo=UTC)
        self.days = max(1, cfg.days)
        self.tl = Timeline(rng, self.origin, self.days)
        self.courses = make_courses(rng, max(1, cfg.courses), self.origin, self.days)
        self.by_catalog: dict[str, list[SynthCourse]] = {}
        for c in self.courses:
            self.by_catalog.setdefault(c.catalog_key, []).append(c)
        # One extra, short-lived program is retired (deleted) half way through.
        self.programs = make_programs(rng, max(0, cfg.programs) + (1 if cfg.programs > 0 else 0), self.courses,
                                      self.origin, self.days)
        self.pathway_uuid = rng_uuid(rng)
        self.programs_of: dict[str, list[SynthProgram]] = {}
        for p in self.programs[: cfg.programs]:
            for ck in p.catalog_keys:
                self.programs_of.setdefault(ck, []).append(p)
        self.enterprises = [rng_uuid(rng) for _ in range(1 + cfg.learners // 400)]
        self.staff = [user_data(FIRST_STAFF_ID + i, f"staff{i + 1}", f"Staff Member {i + 1}")
                      for i in range(max(2, len(self.courses) // 3))]
        self.roles: list[tuple[UserData, str, str, str]] = []  # user, org, course key ("" = org-wide), role
        self.learners = [self._learner(i) for i in range(max(0, cfg.learners))]
        self.cert_revoked = self.program_cert_revoked = False  # has one been revoked yet

    def _learner(self, i: int) -> Learner:
        rng = self.rng
        uid = FIRST_LEARNER_ID + i
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        tz, offset = TIME_ZONES[rng.randrange(len(TIME_ZONES))]
        programs = self.programs[: self.cfg.programs]
        program = rng.choice(programs) if programs and rng.random() < 0.12 else None
        return Learner(
            uid=uid, user=user_data(uid, f"learner{uid}", name),
            join_day=rng.randrange(max(1, self.days // (4 if program else 1) * 2 // 3)),
            engagement=rng.choice((0.5, 0.75, 0.9) if program else (0.08, 0.15, 0.3, 0.5, 0.75)),
            skill=rng.uniform(0.7, 0.98) if program else rng.uniform(0.45, 0.98),
            tz=tz, tz_offset=offset, enterprise=rng.choice(self.enterprises) if rng.random() < 0.15 else None,
            program=program,
        )

    # ---- the history -------------------------------------------------------------------------

    def run(self) -> Iterator[Raw]:
        for day in range(self.days):
            self.tl.today = day
            if day == 0:
                self._reference()
            else:
                self._catalog_changes(day)
            day_start = self.origin + DAY * day
            for learner in self.learners:
                if day >= learner.join_day:
                    self._learner_day(learner, day, day_start)
            yield from self.tl.release(day)

    def _reference(self) -> None:
        rng, emit, t = self.rng, self.tl.emit, self.origin
        for c in self.courses:
            t += timedelta(seconds=1)
            self._publish(c, t)
        for p in self.programs:
            t += timedelta(seconds=1)
            emit(ProgramChanged, t, {"program": program_snapshot(p, self.courses, self.pathway_uuid)}, DISCOVERY)
        orgs = list(dict.fromkeys(c.org for c in self.courses))
        for org in orgs[:2]:
            self.roles.append((self.staff[0], org, "", "staff"))
        for c in self.courses:
            self.roles.append((rng.choice(self.staff), c.org, c.key, "instructor"))
            if rng.random() < 0.5:
                self.roles.append((rng.choice(self.staff), c.org, c.key, "staff"))
        for user, org, course_key, name in self.roles:
            t += timedelta(seconds=1)
            emit(CourseAccessRoleAdded, t, {"course_access_role_data": {
                "user": user, "org_key": org, "course_key": course_key, "role": name}}, LMS)
        # Some roles end during the history; at least one does.
        for i, (user, org, course_key, name) in enumerate(self.roles):
            if i == len(self.roles) - 1 or rng.random() < 0.1:
                when = self.origin + DAY * rng.randrange(1, max(2, self.days)) + timedelta(hours=rng.uniform(1, 20))
                emit(CourseAccessRoleRemoved, when, {"course_access_role_data": {
                    "user": user, "org_key": org, "course_key": course_key, "role": name}}, LMS)

    def _publish(self, c: SynthCourse, t: datetime) -> None:
        c.published_at = t
        c.version = rng_hex(self.rng)[:24]
        self.tl.emit(CoursePublished, t, {"course": c.published()}, CMS)

    def _catalog_changes(self, day: int) -> None:
        rng, emit = self.rng, self.tl.emit
        day_start = self.origin + DAY * day

        def at() -> datetime:
            return day_start + timedelta(seconds=rng.uniform(3600, 20 * 3600))

        for c in self.courses:
            if rng.random() < 1 / 25:
                change_outline(c, rng)
                self._publish(c, at())
            if rng.random() < 1 / 40:
                self._catalog_info(c, at())
        for i, p in enumerate(self.programs):
            if p.deleted:
                continue
            if i == self.cfg.programs and day >= max(1, self.days // 2):
                p.deleted = True
                emit(ProgramDeleted, at(), {"program": {"uuid": p.uuid}}, DISCOVERY)
            elif rng.random() < 1 / 20:
                p.revision += 1
                emit(ProgramChanged, at(), {"program": program_snapshot(p, self.courses, self.pathway_uuid)},
                     DISCOVERY)

    def _catalog_info(self, c: SynthCourse, t: datetime) -> None:
        rng = self.rng
        change = rng.random()
        if change < 0.4:
            c.end += DAY * 7
            c.enrollment_end += DAY * 7
        elif change < 0.7:
            c.name = c.name.removesuffix(" (new edition)") + " (new edition)"
        else:
            c.hidden = not c.hidden
        c.refresh()  # later events carry the new name and dates in their CourseData
        self.tl.emit(CourseCatalogInfoChanged, t, {"catalog_info": {
            "course_key": c.key, "name": c.name,
            "schedule_data": {"start": c.start, "pacing": c.pacing, "end": c.end,
                              "enrollment_start": c.enrollment_start, "enrollment_end": c.enrollment_end},
            "hidden": c.hidden, "invitation_only": c.invitation_only}}, CMS)

    # ---- one learner, one day ----------------------------------------------------------------

    def _learner_day(self, learner: Learner, day: int, day_start: datetime) -> None:
        rng = self.rng
        first = day == learner.join_day
        if not first and rng.random() > learner.engagement:
            return
        local = rng.uniform(7, 23)
        hour = min(21.5, max(0.5, (local - learner.tz_offset) % 24))
        t = day_start + timedelta(seconds=hour * 3600 + rng.random())
        if first:
            if rng.random() < 0.75:
                t = self._preference(learner, t, "time_zone", learner.tz)
            for _ in range(rng.choice((1, 1, 2))):
                t = self._enroll(learner, t)
        else:
            learner.engagement *= 0.995
            t = self._maybe_enroll(learner, t)
        studying = [e for e in learner.enrollments.values()
                    if e.active and e.course.start <= t < e.course.end and e.ptr < len(e.course.blocks)]
        if studying:
            self._session(learner, rng.choice(studying), t, day)

    def _step(self, t: datetime, low: float = 2, high: float = 60) -> datetime:
        return t + timedelta(seconds=self.rng.uniform(low, high))

    def _preference(self, learner: Learner, t: datetime, key: str, value: str | None) -> datetime:
        self.tl.emit(UserPreferenceChanged, t, {"preference": {"user_id": learner.uid, "key": key, "value": value}})
        return self._step(t)

    def _maybe_enroll(self, learner: Learner, t: datetime) -> datetime:
        rng = self.rng
        inactive = [e for e in learner.enrollments.values() if not e.active]
        if inactive and rng.random() < 0.03:
            e = rng.choice(inactive)
            e.active = True
            self._enrollment_event(CourseEnrollmentChanged, learner, e, t)
            return self._step(t)
        unfinished = sum(1 for e in learner.enrollments.values()
                         if e.active and e.ptr < len(e.course.blocks) and t < e.course.end)
        if learner.program:
            chance = 0.8 if unfinished == 0 else 0.1 if unfinished == 1 else 0.0
        else:
            chance = 0.4 if unfinished == 0 else 0.04
        if len(learner.enrollments) < 6 and rng.random() < chance:
            return self._enroll(learner, t)
        return t

    def _enroll(self, learner: Learner, t: datetime) -> datetime:
        rng = self.rng
        siblings = [r for e in learner.enrollments.values() for p in self.programs_of.get(e.course.catalog_key, ())
                    for ck in p.catalog_keys for r in self.by_catalog[ck]]
        pool = siblings if siblings and rng.random() < 0.6 else self.courses
        if learner.program:
            taken = {e.course.catalog_key for e in learner.enrollments.values()}
            pool = [r for ck in learner.program.catalog_keys if ck not in taken for r in self.by_catalog[ck]] or pool
        open_ = [c for c in pool if c.key not in learner.enrollments and c.enrollment_start <= t < c.enrollment_end
                 and not c.invitation_only]
        if not open_:
            return t
        # Program learners take the course that closes first; others browse.
        course = min(open_, key=lambda c: c.end) if learner.program else rng.choice(open_)
        verified = (course.verified_deadline is not None and t < course.verified_deadline
                    and rng.random() < (0.9 if learner.program else 0.2))
        e = Enrollment(course=course, mode="verified" if verified else "audit", created=t)
        learner.enrollments[course.key] = e
        self._enrollment_event(CourseEnrollmentCreated, learner, e, t)
        t = self._step(t)
        if learner.enterprise and rng.random() < 0.8:
            e.linked = True
            self.tl.emit(EnterpriseEnrollmentLinked, t, {"enterprise_enrollment": {
                "enterprise_customer_uuid": learner.enterprise, "user_id": learner.uid, "course_key": course.key}})
            t = self._step(t)
        if verified:
            t = self._verify_identity(learner, t)
        return t

    def _enrollment_event(self, cls: type[EventData], learner: Learner, e: Enrollment, t: datetime) -> None:
        self.tl.emit(cls, t, {"enrollment": {"user": learner.user, "course": e.course.record, "mode": e.mode,
                                             "is_active": e.active, "creation_date": e.created}})

    def _verify_identity(self, learner: Learner, t: datetime) -> datetime:
        rng, emit = self.rng, self.tl.emit
        if learner.idv in ("pending", "approved"):
            return t
        learner.idv_attempts += 1
        attempt = learner.uid * 10 + learner.idv_attempts
        base = {"attempt_id": attempt, "user": learner.user, "name": learner.user.pii.name}
        emit(IdvAttemptCreated, t, {"idv_attempt": {**base, "status": "created"}})
        t = self._step(t, 30, 300)
        emit(IdvAttemptPending, t, {"idv_attempt": {**base, "status": "pending"}})
        decided = t + timedelta(hours=rng.uniform(1, 30))
        if rng.random() < 0.85:
            learner.idv = "approved"
            emit(IdvAttemptApproved, decided, {"idv_attempt": {**base, "status": "approved",
                                                               "expiration_date": decided + DAY * 365}})
        else:
            learner.idv = "denied"
            emit(IdvAttemptDenied, decided, {"idv_attempt": {**base, "status": "denied"}})
        return self._step(t)

    def _session(self, learner: Learner, e: Enrollment, t: datetime, day: int) -> None:
        rng, emit, c, uid = self.rng, self.tl.emit, e.course, learner.uid
        emit(CoursewareVisited, t, {"visit": {"user_id": uid, "course_key": c.key, "visited_at": t,
                                              "browser_timezone": learner.tz}}, API)
        week = (day + self.origin.weekday()) // 7
        e.week_days.setdefault(week, set()).add(day)
        t = self._step(t)
        t = self._enrollment_changes(learner, e, t)
        if not e.active:
            return
        if c.features["course_goals"] and not e.goal_asked:
            e.goal_asked = True
            if rng.random() < 0.4:
                t = self._goal(learner, e, t, rng.choice((1, 3, 3, 5, 7)))
        elif e.goal and rng.random() < 0.03:
            t = self._goal(learner, e, t, rng.choice((0, 1, 3, 5)))
        if c.features["notes"] and rng.random() < 0.03:
            t = self._preference(learner, t, f"notes_visibility:{c.key}", rng.choice(("true", "false")))
        if e.goal and c.features["celebrations"] and e.weekly_acked != week and len(e.week_days[week]) >= e.goal:
            e.weekly_acked = week
            emit(CelebrationAcknowledged, t, {"celebration": {"user_id": uid, "course_key": c.key,
                                                              "weekly_goal": False}}, API)
            t = self._step(t)
        for _ in range(rng.randint(2, 20 if learner.program else 14)):
            t = self._complete_next(learner, e, t)
            if e.ptr >= len(c.blocks):
                break
        if e.unit and rng.random() < 0.06:
            e.bookmarks.append(e.unit)
            emit(BookmarkChanged, t, {"bookmark": {"user_id": uid, "course_key": c.key, "usage_key": e.unit,
                                                   "bookmarked": True}})
        elif e.bookmarks and rng.random() < 0.02:
            emit(BookmarkChanged, t, {"bookmark": {"user_id": uid, "course_key": c.key,
                                                   "usage_key": e.bookmarks.pop(0), "bookmarked": False}})

    def _goal(self, learner: Learner, e: Enrollment, t: datetime, days: int) -> datetime:
        e.goal = days
        self.tl.emit(CourseGoalChanged, t, {"goal": {"user_id": learner.uid, "course_key": e.course.key,
                                                     "days_per_week": days,
                                                     "subscribed_to_reminders": learner.uid % 3 != 0}})
        return self._step(t)

    def _enrollment_changes(self, learner: Learner, e: Enrollment, t: datetime) -> datetime:
        """Upgrades (with identity verification and the integrity signature), refunds, unenrolments
        and enterprise unlinks, at the start of a session."""
        rng, c = self.rng, e.course
        r = rng.random()
        if e.mode == "audit" and c.verified_deadline and t < c.verified_deadline and r < 0.05:
            e.mode = "verified"
            self._enrollment_event(CourseEnrollmentChanged, learner, e, t)
            t = self._verify_identity(learner, self._step(t))
        elif e.mode == "verified" and r < 0.006 and t < e.created + DAY * 14:
            e.mode = "audit"
            self._enrollment_event(CourseEnrollmentChanged, learner, e, t)
            t = self._step(t)
        elif r > 0.99:
            e.active = False
            self._enrollment_event(CourseUnenrollmentCompleted, learner, e, t)
            return self._step(t)
        if e.linked and rng.random() < 0.03:
            e.linked = False
            self.tl.emit(EnterpriseEnrollmentUnlinked, t, {"enterprise_enrollment": {
                "enterprise_customer_uuid": learner.enterprise, "user_id": learner.uid, "course_key": c.key}})
            t = self._step(t)
        if learner.idv == "denied" and e.mode == "verified" and rng.random() < 0.3:
            t = self._verify_identity(learner, t)
        if e.mode == "verified" and c.features["integrity_signature"] and not e.signed:
            e.signed = True
            self.tl.emit(IntegritySignatureCreated, t, {"signature": {"user_id": learner.uid, "course_key": c.key}})
            t = self._step(t)
        return t

    def _complete_next(self, learner: Learner, e: Enrollment, t: datetime) -> datetime:
        """Complete the next block in course order; now and then revisit an earlier one or skip ahead."""
        rng, emit, c, uid = self.rng, self.tl.emit, e.course, learner.uid
        r = rng.random()
        if r < 0.05 and e.ptr > 0:
            index, advance = rng.randrange(e.ptr), False
        else:
            if r > 0.98:
                e.ptr = min(len(c.blocks) - 1, e.ptr + rng.randint(1, 3))
            index, advance = e.ptr, True
        block = c.blocks[index]
        seq = c.sequences[block.sequence_index]
        if block.unit_key != e.unit:
            e.unit = block.unit_key
            emit(SequencePositionChanged, t, {"position": {"user_id": uid, "sequence_key": seq.key,
                                                           "position": block.unit_position}})
            t = self._step(t, 1, 10)
        if "type@video" in block.key and rng.random() < 0.3:
            emit(BlockCompletionChanged, t, {"completion": {"user_id": uid, "course_key": c.key,
                                                            "block_key": block.key, "completion": 0.5, "modified": t}})
            t = self._step(t, 30, 300)
        emit(BlockCompletionChanged, t, {"completion": {"user_id": uid, "course_key": c.key, "block_key": block.key,
                                                        "completion": 1.0, "modified": t}})
        t = self._step(t, 20, 240)
        if advance:
            e.ptr += 1
            if index == seq.last:
                t = self._sequence_done(learner, e, block.sequence_index, t)
        return t

    def _sequence_done(self, learner: Learner, e: Enrollment, index: int, t: datetime) -> datetime:
        rng, emit, c, uid = self.rng, self.tl.emit, e.course, learner.uid
        seq = c.sequences[index]
        exam_chapter = c.entrance_exam_chapter
        if c.features["celebrations"] and not e.first_section_acked:
            e.first_section_acked = True
            emit(CelebrationAcknowledged, t, {"celebration": {"user_id": uid, "course_key": c.key,
                                                              "first_section": False}}, API)
            t = self._step(t)
        in_exam = seq.chapter_key == exam_chapter
        if not (seq.graded or in_exam):
            return t
        score = round(min(1.0, max(0.0, rng.gauss(learner.skill, 0.15))), 2)
        emit(SubsectionGradeChanged, t, {"subsection_grade": {"user_id": uid, "course_key": c.key,
                                                              "block_key": seq.key, "percent": score}})
        t = self._step(t, 1, 5)
        if in_exam:
            if index + 1 >= len(c.sequences) or c.sequences[index + 1].chapter_key != exam_chapter:
                emit(SubsectionGradeChanged, t, {"subsection_grade": {"user_id": uid, "course_key": c.key,
                                                                      "block_key": exam_chapter, "percent": score}})
                t = self._step(t, 1, 5)
            return t
        e.scores[index] = score
        graded = sum(1 for s in c.sequences if s.graded)
        e.percent = percent = round(sum(e.scores.values()) / graded, 4)
        passing = percent >= c.lowest_passing_grade
        if passing and e.passed_at is None:
            e.passed_at = t
        emit(PersistentGradeSummaryChanged, t, {"grade": {
            "user_id": uid, "course": c.record, "course_edited_timestamp": c.published_at,
            "course_version": c.version, "grading_policy_hash": c.grading_policy_hash,
            "percent_grade": percent, "letter_grade": "Pass" if passing else "",
            "passed_timestamp": e.passed_at}})
        t = self._step(t, 1, 5)
        if passing != e.passing:
            e.passing = passing
            emit(CoursePassingStatusUpdated, t, {"course_passing_status": {
                "is_passing": passing, "course": c.record, "user": learner.user}})
            t = self._step(t, 1, 5)
            if passing and not e.cert:
                t = self._certificate(learner, e, t)
        return t

    # ---- certificates --------------------------------------------------------------------------

    def _cert_event(self, cls: type[EventData], learner: Learner, e: Enrollment, t: datetime, status: str) -> None:
        c = e.course
        url = f"https://courses.example.org/certificates/{learner.uid:x}{rng_hex(self.rng)[:16]}" \
            if status == "downloadable" else ""
        self.tl.emit(cls, t, {"certificate": {
            "user": learner.user, "course": c.record, "mode": e.mode, "grade": f"{e.percent:.2f}",
            "download_url": url, "name": learner.user.pii.name, "current_status": status,
            "previous_status": e.cert}})
        e.cert = status

    def _certificate(self, learner: Learner, e: Enrollment, t: datetime) -> datetime:
        rng = self.rng
        if e.mode == "audit":
            if rng.random() < 0.4:
                self._cert_event(CertificateCreated, learner, e, t, "audit_passing")
                t = self._step(t)
            return t
        self._cert_event(CertificateCreated, learner, e, t, "generating")
        ready = t + timedelta(minutes=rng.uniform(5, 240))
        self._cert_event(CertificateChanged, learner, e, ready, "downloadable")
        t = self._step(t)
        awarded_at = ready + timedelta(hours=rng.uniform(1, 12))
        for program in self.programs_of.get(e.course.catalog_key, ()):
            if not learner.program_certs.get(program.uuid) and self._program_complete(learner, program):
                learner.program_certs[program.uuid] = True
                self._program_cert(ProgramCertificateAwarded, learner, program, awarded_at, "awarded")
                # Awarded in error, withdrawn hours later: always the first one, so that even a
                # small history shows a revocation, then now and then.
                if not self.program_cert_revoked or rng.random() < 0.1:
                    self.program_cert_revoked = True
                    learner.program_certs[program.uuid] = False
                    self._program_cert(ProgramCertificateRevoked, learner, program,
                                       awarded_at + timedelta(hours=rng.uniform(2, 20)), "revoked")
        if not self.cert_revoked or rng.random() < 0.05:  # an honour-code violation, found later
            revoked = ready + DAY * rng.uniform(1, 20 if self.cert_revoked else 3)
            self.cert_revoked = True
            self._cert_event(CertificateRevoked, learner, e, revoked, "unavailable")
            for program in self.programs_of.get(e.course.catalog_key, ()):
                if learner.program_certs.get(program.uuid):
                    learner.program_certs[program.uuid] = False
                    self._program_cert(ProgramCertificateRevoked, learner, program,
                                       revoked + timedelta(hours=2), "revoked")
        return t

    def _program_complete(self, learner: Learner, program: SynthProgram) -> bool:
        runs_with_cert = {k for k, e in learner.enrollments.items() if e.cert == "downloadable"}
        return all(any(r.key in runs_with_cert for r in self.by_catalog[ck]) for ck in program.catalog_keys)

    def _program_cert(self, cls: type[EventData], learner: Learner, program: SynthProgram, t: datetime,
                      status: str) -> None:
        self.tl.emit(cls, t, {"program_certificate": {
            "user": learner.user, "program": {"uuid": program.uuid, "title": program.title,
                                              "program_type": program.type},
            "uuid": rng_uuid(self.rng), "status": status,
            "url": f"https://credentials.example.org/credentials/{learner.uid}/{program.uuid}/",
            "certificate_available_date": None}})
