"""The demo history loaded by `lp start`: a hand-made world around the demo learner, times relative to now.

The demo learner (`demo`, user id 1) is enrolled (audit) in the demo course, has worked through
its first sections (so resume points somewhere), set a weekly goal, has the first-section
celebration armed, and visited the course on each of the two days before today (so the first
read today celebrates a 3-day streak). The demo course is in a program with a course the learner
finished with a certificate and one not started yet. A few other learners and course staff make
masquerading worth trying, and a small generated crowd fills the catalog around it.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from events import Event, EventData
from events.activity import (
    BookmarkChanged,
    CourseGoalChanged,
    CoursewareVisited,
    IdvAttemptApproved,
    IdvAttemptCreated,
    IdvAttemptPending,
    SequencePositionChanged,
    UserPreferenceChanged,
)
from events.catalog import ProgramChanged
from events.certificates import CertificateChanged, CertificateCreated
from events.common import CourseData, UserData
from events.completion import BlockCompletionChanged
from events.content import CourseAccessRoleAdded, CoursePublished
from events.enrollment import CourseEnrollmentCreated, CourseUnenrollmentCompleted, EnterpriseEnrollmentLinked
from events.grades import CoursePassingStatusUpdated, PersistentGradeSummaryChanged, SubsectionGradeChanged
from tools.synth_model import API, CMS, DISCOVERY, LMS, user_data
from tools.synthetic import generate

DEMO_USER_ID = 1
DEMO_USERNAME = "demo"
DEMO_COURSE = "course-v1:edX+DemoX+Demo_Course"
DEMO_TIME_ZONE = "America/New_York"
PART_TWO = "course-v1:edX+DemoX201+2026_T1"
PART_THREE = "course-v1:edX+DemoX301+2026_T3"
PROGRAM_UUID = str(uuid.uuid5(uuid.NAMESPACE_URL, "learner-projector/demo-program"))
ENTERPRISE_UUID = str(uuid.uuid5(uuid.NAMESPACE_URL, "learner-projector/demo-enterprise"))
DAY = timedelta(days=1)

# (chapter, [(sequence, graded, format, due in days from now or None, [(unit, icon, [block types])])])
OUTLINE: list[tuple[str, list[tuple[str, bool, str | None, int | None, list[tuple[str, str, list[str]]]]]]] = [
    ("Introduction", [
        ("Demo Course Overview", False, None, None, [
            ("Introduction: Video and Sequences", "video", ["video", "html"])]),
    ]),
    ("Example Week 1: Getting Started", [
        ("Lesson 1 - Getting Started", False, None, None, [
            ("Getting Started with edX", "other", ["html", "html"]),
            ("Working with Videos", "video", ["video", "html"]),
            ("Interactive Questions", "problem", ["problem", "problem"])]),
        ("Homework - Question Styles", True, "Homework", 3, [
            ("Multiple Choice Questions", "problem", ["problem", "problem"]),
            ("Numerical Input", "problem", ["problem"]),
            ("Text input", "problem", ["problem"])]),
    ]),
    ("Example Week 2: Get Interactive", [
        ("Lesson 2 - Let's Get Interactive!", False, None, None, [
            ("Lesson 2: Let's Get Interactive!", "video", ["video", "html"]),
            ("Zooming Diagrams", "other", ["html"]),
            ("Electronic Sound Experiment", "problem", ["problem", "html"])]),
        ("Homework - Labs and Demos", True, "Homework", 10, [
            ("Code Grader", "problem", ["problem"]),
            ("Electric Circuit Simulator", "problem", ["problem", "problem"])]),
    ]),
    ("Example Week 3: Be Social", [
        ("Lesson 3 - Be Social", False, None, None, [
            ("Be Social", "video", ["video", "discussion"]),
            ("Discussion Forums", "other", ["html", "discussion"])]),
        ("Homework - Essays", True, "Homework", 17, [
            ("Peer Assessed Essays", "problem", ["problem"])]),
    ]),
    ("About Exams and Certificates", [
        ("edX Exams", True, "Exam", 30, [
            ("EdX Exams", "problem", ["problem", "problem", "problem"])]),
    ]),
]


def _block(course_key: str, block_type: str, name: str) -> str:
    return f"block-v1:{course_key.removeprefix('course-v1:')}+type@{block_type}+block@{name}"


class _History:
    def __init__(self) -> None:
        self.rng = random.Random(20260301)
        self.events: list[Event[Any]] = []

    def add(self, cls: type[EventData], t: datetime, data: dict[str, Any], source: str = LMS) -> None:
        eid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        self.events.append(Event(type=cls.TYPE, id=eid, time=t, data=cls.model_validate(data), source=source))


def _outline(course_key: str, now: datetime) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """The published outline (due dates relative to `now`), and the completable blocks of each
    sequence (by sequence name)."""
    chapters: list[dict[str, Any]] = []
    blocks_of: dict[str, list[str]] = {}
    n = 0
    for c, (chapter, sequences) in enumerate(OUTLINE, 1):
        seqs: list[dict[str, Any]] = []
        for s, (name, graded, fmt, due, units) in enumerate(sequences, 1):
            unit_docs = []
            blocks_of[name] = []
            for u, (unit, icon, types) in enumerate(units, 1):
                blocks = []
                for btype in types:
                    n += 1
                    key = _block(course_key, btype, f"{btype}_{n:03d}")
                    completable = btype != "discussion"
                    blocks.append({"block_key": key, "block_type": btype, "completable": completable})
                    if completable:
                        blocks_of[name].append(key)
                unit_docs.append({"block_key": _block(course_key, "vertical", f"unit_{c}_{s}_{u}"),
                                  "display_name": unit, "icon": icon, "graded": graded,
                                  "contains_gated_content": graded, "blocks": blocks})
            seqs.append({"block_key": _block(course_key, "sequential", f"seq_{c}_{s}"), "display_name": name,
                         "format": fmt, "graded": graded, "due": now + DAY * due if due is not None else None,
                         "hide_after_due": False, "is_time_limited": fmt == "Exam", "is_proctored": False,
                         "hide_from_toc": False, "units": unit_docs})
        chapters.append({"block_key": _block(course_key, "chapter", f"chapter_{c}"), "display_name": chapter,
                         "sequences": seqs})
    # Week 2's homework opens once the week 1 homework is passed with 60%.
    chapters[2]["sequences"][1]["prerequisite"] = {"block_key": chapters[1]["sequences"][1]["block_key"],
                                                   "min_score": 0.6}
    return chapters, blocks_of


def _course(key: str, name: str, start: datetime, end: datetime, deadline: datetime,
            outline: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    org, number, run = key.removeprefix("course-v1:").split("+")
    return {"course": {
        "course_key": key, "org": org, "number": number, "run": run, "display_name": name,
        "short_description": f"{name}: a tour of the edX platform.", "effort": "2-3 hours per week",
        "language": "en", "license": "all-rights-reserved", "start": start, "end": end,
        "enrollment_start": start - DAY * 30, "enrollment_end": end - DAY * 7, "pacing": "instructor",
        "course_image_url": f"https://courses.example.org/asset-v1:{org}+{number}+{run}+type@asset+block@images_course_image.jpg",
        "marketing_url": f"https://www.example.org/course/{number.lower()}", "show_calculator": True,
        "invitation_only": False, "honor_certificates_enabled": False, "lowest_passing_grade": 0.6,
        "modes": [{"slug": "audit"}, {"slug": "verified", "min_price": 49, "currency": "usd",
                                      "sku": f"SKU-{number}", "upgrade_deadline": deadline}],
        "expected_duration_weeks": 10,
        "features": {"celebrations": True, "streak_celebrations": True, "streak_discount": True,
                     "course_goals": True, "notes": True, "content_type_gating": True,
                     "course_duration_limits": True, "course_exit_page": True, "integrity_signature": True,
                     "learning_assistant": False, "proctored_exams": False},
        "outline": outline, **extra}}


def _run(key: str, name: str, start: datetime, end: datetime, deadline: datetime) -> dict[str, Any]:
    return {"key": key, "title": name, "type": "verified", "pacing_type": "instructor_paced", "start": start,
            "end": end, "enrollment_start": start - DAY * 30, "enrollment_end": end - DAY * 7, "status": "published",
            "seats": [{"type": "audit", "price": "0.00"},
                      {"type": "verified", "upgrade_deadline": deadline, "price": "49.00", "sku": "SKU-DEMO"}]}


def demo_history(now: datetime | None = None) -> list[Event[Any]]:
    """The demo world as of `now` (default: the current time), every event before it, in time order."""
    return demo_events(now or datetime.now(UTC))


def demo_events(now: datetime) -> list[Event[Any]]:
    """The demo world as of `now` (aware), every event before `now`, in time order."""
    now = now.astimezone(UTC)
    h = _History()
    t0 = now - DAY * 40
    courses = [
        (DEMO_COURSE, "Demonstration Course", now - DAY * 30, now + DAY * 60, now + DAY * 20),
        (PART_TWO, "Demonstration Course, Part II", now - DAY * 120, now - DAY * 20, now - DAY * 40),
        (PART_THREE, "Demonstration Course, Part III", now + DAY * 14, now + DAY * 100, now + DAY * 80),
    ]
    outlines = {}
    for i, (key, name, start, end, deadline) in enumerate(courses):
        outline, blocks_of = _outline(key, now if key == DEMO_COURSE else start)
        outlines[key] = (outline, blocks_of)
        h.add(CoursePublished, t0 + timedelta(minutes=i), _course(key, name, start, end, deadline, outline), CMS)
    record = {key: CourseData(course_key=key, display_name=name, start=start, end=end)
              for key, name, start, end, _ in courses}
    h.add(ProgramChanged, t0 + timedelta(minutes=5), {"program": {
        "uuid": PROGRAM_UUID, "title": "Demonstration Program", "subtitle": "Three courses about the platform",
        "type": "Professional Certificate", "type_slug": "professional-certificate", "status": "active",
        "marketing_slug": "demo-program", "marketing_url": "https://www.example.org/professional-certificate/demo",
        "card_image_url": "https://www.example.org/programs/demo/card.jpg",
        "banner_image": {"large": {"url": "https://www.example.org/programs/demo/banner-large.jpg",
                                   "width": 1440, "height": 480}},
        "authoring_organizations": [{"key": "edX", "name": "edX", "logo_image_url": "https://www.example.org/edx.png"}],
        "courses": [{"key": key.removeprefix("course-v1:").rsplit("+", 1)[0],
                     "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, key)), "title": name,
                     "course_runs": [_run(key, name, start, end, deadline)]}
                    for key, name, start, end, deadline in courses],
        "pathways": [{"id": 1, "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, "demo-pathway")),
                      "name": "Demo University credit", "org_name": "edX", "email": "credit@example.org",
                      "description": "Credit towards a degree.", "destination_url": "https://www.example.org/credit",
                      "pathway_type": "credit", "program_uuids": [PROGRAM_UUID]}],
        "applicable_seat_types": ["verified"], "is_program_eligible_for_one_click_purchase": True}}, DISCOVERY)

    staff = user_data(2, "staff", "Course Staff")
    h.add(CourseAccessRoleAdded, t0 + timedelta(minutes=6), {"course_access_role_data": {
        "user": staff, "org_key": "edX", "course_key": DEMO_COURSE, "role": "instructor"}})
    h.add(CourseAccessRoleAdded, t0 + timedelta(minutes=7), {"course_access_role_data": {
        "user": user_data(3, "orgstaff", "Org Staff"), "org_key": "edX", "course_key": "", "role": "staff"}})

    demo = user_data(DEMO_USER_ID, DEMO_USERNAME, "Demo Learner")
    _demo_learner(h, demo, now, record, outlines)
    _other_learners(h, now, record[DEMO_COURSE], outlines[DEMO_COURSE][1])
    _crowd(h, now)
    h.events.sort(key=lambda e: (e.time, e.id))
    return [e for e in h.events if e.time < now]


def _local_noon(now: datetime, days_ago: int) -> datetime:
    tz = ZoneInfo(DEMO_TIME_ZONE)
    day = now.astimezone(tz).date() - DAY * days_ago
    return datetime.combine(day, time(12), tzinfo=tz).astimezone(UTC)


def _complete(h: _History, uid: int, course_key: str, blocks: list[str], t: datetime,
              seq_key: str | None = None) -> datetime:
    if seq_key:
        h.add(SequencePositionChanged, t, {"position": {"user_id": uid, "sequence_key": seq_key, "position": 1}})
    for block in blocks:
        t += timedelta(minutes=3)
        h.add(BlockCompletionChanged, t, {"completion": {"user_id": uid, "course_key": course_key,
                                                         "block_key": block, "completion": 1.0, "modified": t}})
    return t


def _demo_learner(h: _History, demo: UserData, now: datetime, record: dict[str, CourseData],
                  outlines: dict[str, tuple[list[dict[str, Any]], dict[str, list[str]]]]) -> None:
    uid = demo.id
    t = now - DAY * 100
    h.add(UserPreferenceChanged, t, {"preference": {"user_id": uid, "key": "time_zone", "value": DEMO_TIME_ZONE}})
    # Part II: finished last term, verified, with a certificate.
    enrol = {"user": demo, "course": record[PART_TWO], "mode": "verified", "is_active": True, "creation_date": t}
    h.add(CourseEnrollmentCreated, t + timedelta(minutes=1), {"enrollment": enrol})
    attempt = {"attempt_id": 1, "user": demo, "name": "Demo Learner"}
    h.add(IdvAttemptCreated, t + timedelta(minutes=5), {"idv_attempt": {**attempt, "status": "created"}})
    h.add(IdvAttemptPending, t + timedelta(minutes=6), {"idv_attempt": {**attempt, "status": "pending"}})
    h.add(IdvAttemptApproved, t + DAY, {"idv_attempt": {**attempt, "status": "approved",
                                                        "expiration_date": t + DAY * 366}})
    two = outlines[PART_TWO][1]
    tc = _complete(h, uid, PART_TWO, [b for blocks in two.values() for b in blocks], now - DAY * 50)
    graded = [s["block_key"] for chapter in outlines[PART_TWO][0] for s in chapter["sequences"] if s["graded"]]
    for i, seq_key in enumerate(graded):
        h.add(SubsectionGradeChanged, tc + timedelta(seconds=i), {"subsection_grade": {
            "user_id": uid, "course_key": PART_TWO, "block_key": seq_key, "percent": 0.9}})
    _grade(h, tc + DAY, uid, record[PART_TWO], 0.9, passed=True)
    h.add(CoursePassingStatusUpdated, tc + DAY, {"course_passing_status": {
        "is_passing": True, "course": record[PART_TWO], "user": demo}})
    _cert(h, CertificateCreated, tc + DAY * 2, demo, record[PART_TWO], "verified", "generating", "")
    _cert(h, CertificateChanged, tc + DAY * 2 + timedelta(hours=1), demo, record[PART_TWO], "verified",
          "downloadable", "generating")

    # The demo course: audit, a weekly goal, first sections done, visits yesterday and the day before.
    ck = DEMO_COURSE
    t = now - DAY * 10
    enrol = {"user": demo, "course": record[ck], "mode": "audit", "is_active": True, "creation_date": t}
    h.add(CourseEnrollmentCreated, t, {"enrollment": enrol})
    h.add(EnterpriseEnrollmentLinked, t + timedelta(seconds=5), {"enterprise_enrollment": {
        "enterprise_customer_uuid": ENTERPRISE_UUID, "user_id": uid, "course_key": ck}})
    h.add(CourseGoalChanged, t + timedelta(minutes=1), {"goal": {
        "user_id": uid, "course_key": ck, "days_per_week": 3, "subscribed_to_reminders": True}})
    h.add(UserPreferenceChanged, t + timedelta(minutes=2), {"preference": {
        "user_id": uid, "key": f"notes_visibility:{ck}", "value": "true"}})
    blocks_of = outlines[ck][1]
    sessions = [
        (8, [("Demo Course Overview", "seq_1_1"), ("Lesson 1 - Getting Started", "seq_2_1")]),
        (6, [("Homework - Question Styles", "seq_2_2")]),
        (2, []),
        (1, [("Lesson 2 - Let's Get Interactive!", "seq_3_1")]),
    ]
    for days_ago, seqs in sessions:
        t = _local_noon(now, days_ago)
        h.add(CoursewareVisited, t, {"visit": {"user_id": uid, "course_key": ck, "visited_at": t,
                                               "browser_timezone": DEMO_TIME_ZONE}}, API)
        for name, seq in seqs:
            blocks = blocks_of[name] if days_ago != 1 else blocks_of[name][:2]
            t = _complete(h, uid, ck, blocks, t + timedelta(minutes=1), _block(ck, "sequential", seq))
    homework = _block(ck, "sequential", "seq_2_2")
    t = _local_noon(now, 6) + timedelta(hours=1)
    h.add(SubsectionGradeChanged, t, {"subsection_grade": {
        "user_id": uid, "course_key": ck, "block_key": homework, "percent": 0.5}})
    _grade(h, t + timedelta(seconds=1), uid, record[ck], 0.13, passed=False)
    h.add(CoursePassingStatusUpdated, t + timedelta(seconds=2), {"course_passing_status": {
        "is_passing": False, "course": record[ck], "user": demo}})
    h.add(BookmarkChanged, t + timedelta(minutes=1), {"bookmark": {
        "user_id": uid, "course_key": ck, "usage_key": _block(ck, "vertical", "unit_2_1_2"), "bookmarked": True}})


def _grade(h: _History, t: datetime, uid: int, course: CourseData, percent: float, *, passed: bool) -> None:
    h.add(PersistentGradeSummaryChanged, t, {"grade": {
        "user_id": uid, "course": course, "course_edited_timestamp": course.start, "course_version": "demo-1",
        "grading_policy_hash": "demo-policy", "percent_grade": percent, "letter_grade": "Pass" if passed else "",
        "passed_timestamp": t if passed else None}})


def _cert(h: _History, cls: type[EventData], t: datetime, user: UserData, course: CourseData, mode: str,
          status: str, previous: str) -> None:
    url = f"https://courses.example.org/certificates/{user.id}-{course.course_key}" if status == "downloadable" else ""
    h.add(cls, t, {"certificate": {"user": user, "course": course, "mode": mode, "grade": "0.90",
                                   "download_url": url, "name": user.pii.name, "current_status": status,
                                   "previous_status": previous}})


def _other_learners(h: _History, now: datetime, course: CourseData, blocks_of: dict[str, list[str]]) -> None:
    """A handful of named learners in the demo course, to masquerade as."""
    ck = course.course_key
    everything = [b for blocks in blocks_of.values() for b in blocks]
    for i, (username, mode, progress, active) in enumerate([
        ("alice", "verified", 1.0, True), ("bob", "audit", 0.3, True), ("carol", "audit", 0.1, False),
        ("dave", "verified", 0.6, True), ("erin", "audit", 0.0, True),
    ]):
        uid = 10 + i
        user = user_data(uid, username, username.title())
        t = now - DAY * (20 - i)
        enrol = {"user": user, "course": course, "mode": mode, "is_active": True, "creation_date": t}
        h.add(CourseEnrollmentCreated, t, {"enrollment": enrol})
        done = everything[: int(len(everything) * progress)]
        if done:
            _complete(h, uid, ck, done, t + DAY, _block(ck, "sequential", "seq_1_1"))
        if progress >= 0.6:
            grade = round(0.55 + 0.4 * progress, 2)
            _grade(h, t + DAY * 2, uid, course, grade, passed=True)
        if progress == 1.0:
            _cert(h, CertificateCreated, t + DAY * 3, user, course, mode, "downloadable", "")
        if not active:
            h.add(CourseUnenrollmentCompleted, t + DAY * 4, {"enrollment": {**enrol, "is_active": False}})


def _crowd(h: _History, now: datetime) -> None:
    """A small generated world (other courses, programs, learners) over the last two weeks."""
    start = (now - DAY * 14).date()
    h.events.extend(generate(seed=2026, learners=30, courses=5, programs=2, days=14, start=start))
