"""A learner's learning in the synthetic world: a session in an enrolled course (visits, goals,
completions, subsection grades, positions and bookmarks), the grade and certificate that follow,
and program certificates. World (tools/synth_world.py) mixes it in; the draws keep the one
`random.Random` and their order (one seed, one history).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

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
from events.certificates import (
    CertificateChanged,
    CertificateCreated,
    CertificateRevoked,
    ProgramCertificateAwarded,
    ProgramCertificateRevoked,
)
from events.completion import BlockCompletionChanged
from events.enrollment import (
    CourseEnrollmentChanged,
    CourseUnenrollmentCompleted,
    EnterpriseEnrollmentUnlinked,
)
from events.grades import CoursePassingStatusUpdated, PersistentGradeSummaryChanged, SubsectionGradeChanged
from tools.synth_catalog import (
    DAY,
    SynthCourse,
    SynthProgram,
    rng_hex,
    rng_uuid,
)
from tools.synth_model import (
    API,
    Config,
    Enrollment,
    Learner,
    Timeline,
)


class Learning:
    """The session half of `World` (its attributes are the world's)."""

    cfg: Config
    rng: random.Random
    origin: datetime
    tl: Timeline
    by_catalog: dict[str, list[SynthCourse]]
    programs_of: dict[str, list[SynthProgram]]
    cert_revoked: bool
    program_cert_revoked: bool

    def _step(self, t: datetime, low: float = 2, high: float = 60) -> datetime:
        return t + timedelta(seconds=self.rng.uniform(low, high))

    def _preference(self, learner: Learner, t: datetime, key: str, value: str | None) -> datetime:
        self.tl.emit(UserPreferenceChanged, t, {"preference": {"user_id": learner.uid, "key": key, "value": value}})
        return self._step(t)

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
