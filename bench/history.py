"""The event history the benchmarks replay, and what the other benchmarks need to know about it.

The seeded generator in tools/synthetic.py (`generate`) is used when it exists. Until then, a
small stand-in builds courses, enrollments, completions, visits and grades, enough to exercise the
projector and the course/resume/sequence routes. Either way the history is truncated to the
requested number of events (a prefix of a history is still a valid history).
"""

from __future__ import annotations

import inspect
import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from events import REGISTRY, Event
from events.activity import CoursewareVisited
from events.catalog import ProgramChanged
from events.completion import BlockCompletionChanged
from events.content import CoursePublished
from events.enrollment import CourseEnrollmentCreated
from events.grades import PersistentGradeSummaryChanged, SubsectionGradeChanged

START = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)


@dataclass
class History:
    events: list[Event[Any]]
    source: str  # "tools.synthetic.generate" or "bench stand-in"
    enrollments: list[tuple[int, str]] = field(default_factory=list)  # distinct (user id, course key)
    sequences: dict[str, list[str]] = field(default_factory=dict)  # course key -> sequence keys
    programs: list[str] = field(default_factory=list)
    learners_with_programs: list[int] = field(default_factory=list)

    @property
    def learners(self) -> list[int]:
        return sorted({u for u, _ in self.enrollments})


def build(n_events: int, seed: int = 7) -> History:
    try:
        from tools import synthetic
    except ImportError:  # pragma: no cover - tools is part of this repo
        synthetic = None  # type: ignore[assignment]
    generate = getattr(synthetic, "generate", None)
    if generate is not None:
        events, source = _from_generator(generate, n_events, seed), "tools.synthetic.generate"
    else:
        events, source = list(islice(_stand_in(n_events, seed), n_events)), "bench stand-in"
    return describe(events, source)


def describe(events: list[Event[Any]], source: str) -> History:
    """Scan the history once for the keys the API and freshness benchmarks ask for."""
    pairs: dict[tuple[int, str], None] = {}
    sequences: dict[str, list[str]] = {}
    programs: dict[str, None] = {}
    program_runs: set[str] = set()
    for e in events:
        d = e.data
        if isinstance(d, CourseEnrollmentCreated):
            pairs[(d.enrollment.user.id, d.enrollment.course.course_key)] = None
        elif isinstance(d, CoursePublished):
            c = d.course
            sequences[c.course_key] = [s.block_key for ch in c.outline for s in ch.sequences]
        elif isinstance(d, ProgramChanged):
            programs[d.program.uuid] = None
            program_runs.update(r.key for pc in d.program.courses for r in pc.course_runs)
    enrollments = [p for p in pairs if p[1] in sequences]
    with_programs = sorted({u for u, ck in enrollments if ck in program_runs})
    return History(events, source, enrollments, sequences, list(programs), with_programs)


def _from_generator(generate: Any, n_events: int, seed: int) -> list[Event[Any]]:
    """Size the real generator by learners: calibrate on a small run, then scale and truncate."""
    params = inspect.signature(generate).parameters
    base: dict[str, Any] = {"seed": seed}
    if "start" in params:
        base["start"] = START
    courses = max(4, min(60, n_events // 20_000))
    if "courses" in params:
        base["courses"] = courses
    if "programs" in params:
        base["programs"] = max(2, courses // 4)
    probe_learners = 200
    sample = sum(1 for _ in _events(generate(**base, learners=probe_learners)))
    per_learner = max(1.0, sample / probe_learners)
    learners = max(10, int(n_events / per_learner * 1.1) + 1)
    out = list(islice(_events(generate(**base, learners=learners)), n_events))
    return out


def _events(items: Iterable[Any]) -> Iterator[Event[Any]]:
    for item in items:
        if isinstance(item, Event):
            yield item


# The stand-in ----------------------------------------------------------------------------------


def _event(cls: type, data: dict[str, Any], at: datetime, rng: random.Random) -> Event[Any]:
    type_ = cls.TYPE  # type: ignore[attr-defined]
    ev_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return Event(type=type_, id=ev_id, time=at, data=REGISTRY[type_].model_validate(data))


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _outline(course_key: str) -> list[dict[str, Any]]:
    tail = course_key.removeprefix("course-v1:")
    blk = lambda t, n: f"block-v1:{tail}+type@{t}+block@{n}"  # noqa: E731
    chapters = []
    for c in range(4):
        seqs = []
        for s in range(3):
            units = []
            for u in range(3):
                name = f"c{c}s{s}u{u}"
                units.append({"block_key": blk("vertical", name), "display_name": f"Unit {name}", "icon": "video",
                              "blocks": [_leaf(blk, "video", name + "v"), _leaf(blk, "problem", name + "p")]})
            seqs.append({"block_key": blk("sequential", f"c{c}s{s}"), "display_name": f"Sequence {c}.{s}",
                         "graded": s == 2, "format": "Homework" if s == 2 else None, "units": units})
        chapters.append({"block_key": blk("chapter", f"c{c}"), "display_name": f"Chapter {c}", "sequences": seqs})
    return chapters


def _leaf(blk: Any, block_type: str, name: str) -> dict[str, Any]:
    return {"block_key": blk(block_type, name), "block_type": block_type, "completable": True}


def _course(course_key: str, rng: random.Random) -> Event[Any]:
    org, number, run = course_key.removeprefix("course-v1:").split("+")
    data = {"course": {
        "course_key": course_key, "org": org, "number": number, "run": run, "display_name": f"Course {number}",
        "short_description": "A course of the benchmark history. " * 3, "pacing": "self",
        "start": _iso(START - timedelta(days=30)), "end": _iso(START + timedelta(days=200)),
        "modes": [{"slug": "audit"}, {"slug": "verified", "min_price": 49, "currency": "usd"}],
        "features": {"celebrations": True, "course_goals": True, "notes": True},
        "outline": _outline(course_key),
    }}
    return _event(CoursePublished, data, START - timedelta(days=1), rng)


def _user(uid: int) -> dict[str, Any]:
    name = f"learner{uid}"
    return {"id": uid, "is_active": True, "pii": {"username": name, "email": f"{name}@example.com", "name": name}}


def _stand_in(n_events: int, seed: int) -> Iterator[Event[Any]]:
    rng = random.Random(seed)
    n_courses = max(4, min(60, n_events // 20_000))
    course_keys = [f"course-v1:BenchX+C{i:03d}+2026" for i in range(n_courses)]
    for ck in course_keys:
        yield _course(ck, rng)
    uid = 0
    while True:
        uid += 1
        t = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 20))
        for ck in rng.sample(course_keys, rng.choice((1, 1, 2, 3))):
            yield from _learner_in_course(uid, ck, t, rng)


def _learner_in_course(uid: int, ck: str, t: datetime, rng: random.Random) -> Iterator[Event[Any]]:
    tail = ck.removeprefix("course-v1:")
    mode = rng.choice(("audit", "audit", "verified"))
    yield _event(CourseEnrollmentCreated, {"enrollment": {
        "user": _user(uid), "course": {"course_key": ck, "display_name": "Course"}, "mode": mode, "is_active": True,
        "creation_date": _iso(t)}}, t, rng)
    done = rng.randrange(0, 37)
    for i in range(done):
        c, rest = divmod(i, 9)
        s, u = divmod(rest, 3)
        name = f"c{c}s{s}u{u}"
        for suffix, kind in (("v", "video"), ("p", "problem")):
            t += timedelta(minutes=rng.randrange(1, 40))
            yield _event(BlockCompletionChanged, {"completion": {
                "user_id": uid, "course_key": ck, "block_key": f"block-v1:{tail}+type@{kind}+block@{name}{suffix}",
                "completion": 1.0, "modified": _iso(t)}}, t, rng)
        if u == 2:
            visit = {"user_id": uid, "course_key": ck, "visited_at": _iso(t)}
            yield _event(CoursewareVisited, {"visit": visit}, t, rng)
            if s == 2:
                yield _event(SubsectionGradeChanged, {"subsection_grade": {
                    "user_id": uid, "course_key": ck, "block_key": f"block-v1:{tail}+type@sequential+block@c{c}s{s}",
                    "percent": round(rng.random(), 2)}}, t, rng)
                yield _event(PersistentGradeSummaryChanged, {"grade": {
                    "user_id": uid, "course": {"course_key": ck}, "percent_grade": round(rng.random(), 2)}}, t, rng)
