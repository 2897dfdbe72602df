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
from datetime import UTC, datetime, timedelta

from events.catalog import ProgramChanged, ProgramDeleted
from events.common import UserData
from events.content import CourseAccessRoleAdded, CourseAccessRoleRemoved, CourseCatalogInfoChanged, CoursePublished
from events.enrollment import (
    CourseEnrollmentChanged,
    CourseEnrollmentCreated,
    EnterpriseEnrollmentLinked,
)
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
from tools.synth_learning import Learning
from tools.synth_model import (
    CMS,
    DISCOVERY,
    FIRST_LEARNER_ID,
    FIRST_NAMES,
    FIRST_STAFF_ID,
    LAST_NAMES,
    LMS,
    TIME_ZONES,
    Config,
    Enrollment,
    Learner,
    Raw,
    Timeline,
    user_data,
)


class World(Learning):
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
