"""Reference data for synthetic histories: course runs with outlines, and catalog programs.

Everything here is drawn from one `random.Random`, in a fixed order, so a seed gives the same
catalog every time. The records are the payload classes of `events` (validated once when built);
`SynthCourse` keeps, beside its published snapshot, the flattened view a simulated learner walks.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from events.catalog import ProgramSnapshot
from events.common import CourseData
from events.content import CoursePublishedData

DAY = timedelta(days=1)
WEEK = timedelta(weeks=1)

ORGS = ("edX", "MITx", "HarvardX", "DelftX", "UQx", "IBM", "LinuxFoundationX", "BerkeleyX")
SUBJECTS = (
    ("CS", "Computer Science"), ("DS", "Data Science"), ("MATH", "Calculus"), ("PHYS", "Physics"),
    ("BIO", "Biology"), ("ECON", "Economics"), ("STAT", "Statistics"), ("ML", "Machine Learning"),
    ("HIST", "History"), ("CHEM", "Chemistry"), ("LAW", "Contract Law"), ("ART", "Art History"),
)
ADJECTIVES = ("Introduction to", "Foundations of", "Principles of", "Advanced", "Applied", "Practical")
TOPICS = ("Basics", "Models", "Methods", "Systems", "Analysis", "Design", "Theory", "Practice",
          "Probability", "Structures", "Algorithms", "Ethics", "Case Studies", "Review")
LANGUAGES = ("en", "en", "en", "es", "fr", "zh_HANS")
PROGRAM_TYPES = (("MicroMasters", "micromasters"), ("Professional Certificate", "professional-certificate"),
                 ("XSeries", "xseries"))
IMAGE = "https://prod-edxapp.edx-cdn.org/asset-v1:{org}+{number}+{run}+type@asset+block@course_image.jpg"


_VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_4 = (0x4000 << 64) | (0x8000 << 48)


def rng_uuid(rng: random.Random) -> str:
    """`str(uuid.UUID(int=rng.getrandbits(128), version=4))`, without building the UUID object."""
    h = f"{(rng.getrandbits(128) & _VERSION_MASK) | _VERSION_4:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def rng_hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


@dataclass(slots=True)
class FlatBlock:
    """One completable block in course order, with what encloses it."""

    key: str
    unit_key: str
    unit_position: int  # 1-based index of the unit in its sequence
    sequence_index: int  # index into SynthCourse.sequences


@dataclass(slots=True)
class FlatSequence:
    key: str
    graded: bool
    first: int  # first FlatBlock index
    last: int  # last FlatBlock index (inclusive)
    chapter_key: str
    unit_keys: tuple[str, ...]


@dataclass(slots=True)
class SynthCourse:
    key: str
    org: str
    number: str
    run: str
    name: str
    start: datetime
    end: datetime
    enrollment_start: datetime
    enrollment_end: datetime
    pacing: str
    weeks: int
    lowest_passing_grade: float
    features: dict[str, bool]
    verified_deadline: datetime | None
    price: int
    certificate_available_date: datetime | None
    entrance_exam_min: float | None
    language: str
    outline: list[dict[str, Any]]
    hidden: bool = False
    invitation_only: bool = False
    edits: int = 0
    published_at: datetime | None = None
    version: str = ""
    record: CourseData = field(init=False)
    blocks: list[FlatBlock] = field(default_factory=list)
    sequences: list[FlatSequence] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.refresh()

    @property
    def catalog_key(self) -> str:
        return f"{self.org}+{self.number}"

    @property
    def grading_policy_hash(self) -> str:
        return f"{self.lowest_passing_grade:.2f}/{sum(1 for s in self.sequences if s.graded)}"

    @property
    def has_verified(self) -> bool:
        return self.verified_deadline is not None

    @property
    def entrance_exam_chapter(self) -> str | None:
        return self.outline[0]["block_key"] if self.entrance_exam_min is not None else None

    def block(self, block_type: str, rng: random.Random) -> str:
        return f"block-v1:{self.org}+{self.number}+{self.run}+type@{block_type}+block@{rng_hex(rng)}"

    def refresh(self) -> None:
        """Recompute the `CourseData` record and the flattened learner view from the outline."""
        self.record = CourseData(course_key=self.key, display_name=self.name, start=self.start, end=self.end)
        self.blocks = []
        self.sequences = []
        for chapter in self.outline:
            for seq in chapter["sequences"]:
                first = len(self.blocks)
                for pos, unit in enumerate(seq["units"], 1):
                    for blk in unit["blocks"]:
                        if blk["completable"]:
                            self.blocks.append(FlatBlock(blk["block_key"], unit["block_key"], pos, len(self.sequences)))
                self.sequences.append(FlatSequence(
                    seq["block_key"], seq["graded"], first, len(self.blocks) - 1, chapter["block_key"],
                    tuple(u["block_key"] for u in seq["units"])))

    def published(self) -> CoursePublishedData:
        modes: list[dict[str, Any]] = [{"slug": "audit"}]
        if self.verified_deadline is not None:
            modes.append({"slug": "verified", "min_price": self.price, "currency": "usd",
                          "sku": f"SKU-{self.number}-{self.run}", "upgrade_deadline": self.verified_deadline})
        exam = None
        if self.entrance_exam_min is not None:
            exam = {"chapter_key": self.outline[0]["block_key"], "minimum_score_pct": self.entrance_exam_min}
        return CoursePublishedData.model_validate({
            "course_key": self.key, "org": self.org, "number": self.number, "run": self.run,
            "display_name": self.name,
            "short_description": f"{self.name}: a {self.weeks}-week course from {self.org}.",
            "overview": f"<p>{self.name}</p>", "effort": f"{2 + self.weeks % 5}-{4 + self.weeks % 5} hours per week",
            "language": self.language, "license": "all-rights-reserved",
            "start": self.start, "end": self.end,
            "enrollment_start": self.enrollment_start, "enrollment_end": self.enrollment_end,
            "pacing": self.pacing,
            "course_image_url": IMAGE.format(org=self.org, number=self.number, run=self.run),
            "course_video_url": None if self.weeks % 3 else "https://www.youtube.com/watch?v=3_yD_cEKoCk",
            "marketing_url": f"https://www.example.org/course/{self.number.lower()}-{self.run.lower()}",
            "show_calculator": self.number.startswith(("MATH", "PHYS", "STAT")),
            "invitation_only": self.invitation_only,
            "lowest_passing_grade": self.lowest_passing_grade,
            "modes": modes, "expected_duration_weeks": self.weeks,
            "certificate_available_date": self.certificate_available_date,
            "honor_certificates_enabled": False,
            "entrance_exam": exam, "features": self.features, "outline": self.outline,
        })


def _unit(course: SynthCourse | _KeyMaker, rng: random.Random, title: str, graded: bool) -> dict[str, Any]:
    n = rng.choice((1, 2, 2, 3, 3, 4))
    kinds = [rng.choice(("html", "video", "problem", "problem")) for _ in range(n)]
    if graded and "problem" not in kinds:
        kinds[-1] = "problem"
    blocks = [{"block_key": course.block(k, rng), "block_type": k, "completable": True} for k in kinds]
    if rng.random() < 0.15:  # a discussion block is not completable
        blocks.append({"block_key": course.block("discussion", rng), "block_type": "discussion", "completable": False})
    icon = "problem" if "problem" in kinds else "video" if "video" in kinds else "other"
    return {"block_key": course.block("vertical", rng), "display_name": title, "page_title": title,
            "icon": icon, "graded": graded and icon == "problem",
            "contains_gated_content": graded and icon == "problem", "blocks": blocks}


def _sequence(course: SynthCourse | _KeyMaker, rng: random.Random, title: str, *, graded: bool,
              due: datetime | None, n_units: int) -> dict[str, Any]:
    units = [_unit(course, rng, f"{title}: part {i}", graded) for i in range(1, n_units + 1)]
    fmt = rng.choice(("Homework", "Homework", "Lab", "Exam")) if graded else None
    return {"block_key": course.block("sequential", rng), "display_name": title, "format": fmt,
            "graded": graded, "due": due if graded else None, "hide_after_due": graded and rng.random() < 0.1,
            "is_time_limited": fmt == "Exam" and rng.random() < 0.5, "is_proctored": False,
            "hide_from_toc": False, "prerequisite": None, "units": units}


@dataclass(slots=True)
class _KeyMaker:
    org: str
    number: str
    run: str

    def block(self, block_type: str, rng: random.Random) -> str:
        return f"block-v1:{self.org}+{self.number}+{self.run}+type@{block_type}+block@{rng_hex(rng)}"


def make_outline(rng: random.Random, keys: _KeyMaker, *, start: datetime, weeks: int, self_paced: bool,
                 entrance_exam: bool, subject: str) -> list[dict[str, Any]]:
    """Chapters of sequences of units of blocks; graded sequences due weekly; some prerequisites."""
    outline: list[dict[str, Any]] = []
    if entrance_exam:
        exam = _sequence(keys, rng, "Entrance Exam", graded=False, due=None, n_units=2)
        outline.append({"block_key": keys.block("chapter", rng), "display_name": "Entrance Exam", "sequences": [exam]})
    n_chapters = rng.randint(2, 6)
    graded_keys: list[str] = []
    for c in range(1, n_chapters + 1):
        due = None if self_paced else start + WEEK * min(weeks, c * max(1, weeks // n_chapters)) - timedelta(hours=1)
        sequences = []
        for s in range(1, rng.randint(1, 4) + 1):
            graded = s > 1 or rng.random() < 0.3
            title = f"{rng.choice(TOPICS)} {c}.{s}"
            seq = _sequence(keys, rng, title, graded=graded, due=due, n_units=rng.randint(1, 5))
            if graded and graded_keys and rng.random() < 0.15:
                seq["prerequisite"] = {"block_key": rng.choice(graded_keys), "min_score": rng.choice((0.5, 0.6, 0.8))}
            if graded:
                graded_keys.append(seq["block_key"])
            sequences.append(seq)
        outline.append({"block_key": keys.block("chapter", rng),
                        "display_name": f"Week {c}: {subject} {rng.choice(TOPICS)}", "sequences": sequences})
    return outline


def make_courses(rng: random.Random, n: int, origin: datetime, days: int) -> list[SynthCourse]:
    """`n` course runs; about a quarter are earlier runs of the same catalog course."""
    catalog: list[tuple[str, str, str, str]] = []  # org, number, title, subject
    courses: list[SynthCourse] = []
    for i in range(n):
        rerun = catalog and rng.random() < 0.25
        if rerun:
            org, number, title, subject = rng.choice(catalog)
        else:
            code, subject = SUBJECTS[i % len(SUBJECTS)]
            org = ORGS[rng.randrange(len(ORGS))]
            number = f"{code}{100 + i}x"
            title = f"{rng.choice(ADJECTIVES)} {subject}"
            catalog.append((org, number, title, subject))
        self_paced = rng.random() < 0.35
        weeks = rng.randint(6, 14)
        # Runs start from two months before the history to two thirds into it.
        start = (origin + DAY * rng.randint(-60, max(1, days * 2 // 3))).replace(hour=16)
        end = start + WEEK * (weeks + (8 if self_paced else 0))
        run = f"{start.year}_T{(start.month - 1) // 4 + 1}{'' if not rerun else chr(ord('a') + len(courses) % 26)}"
        if any(c.org == org and c.number == number and c.run == run for c in courses):
            run = f"{run}{i}"
        keys = _KeyMaker(org, number, run)
        has_verified = rng.random() < 0.85
        features = {
            "celebrations": rng.random() < 0.8, "streak_celebrations": rng.random() < 0.6,
            "streak_discount": rng.random() < 0.3, "course_goals": rng.random() < 0.7,
            "notes": rng.random() < 0.5, "learning_assistant": rng.random() < 0.2,
            "integrity_signature": has_verified and rng.random() < 0.4,
            "content_type_gating": has_verified and rng.random() < 0.5,
            "course_duration_limits": has_verified and rng.random() < 0.5,
            "course_exit_page": rng.random() < 0.7, "proctored_exams": rng.random() < 0.1,
        }
        entrance = rng.random() < 0.15
        outline = make_outline(rng, keys, start=start, weeks=weeks, self_paced=self_paced,
                               entrance_exam=entrance, subject=subject)
        courses.append(SynthCourse(
            key=f"course-v1:{org}+{number}+{run}", org=org, number=number, run=run, name=title,
            start=start, end=end, enrollment_start=start - DAY * 45, enrollment_end=end - WEEK,
            pacing="self" if self_paced else "instructor", weeks=weeks,
            lowest_passing_grade=rng.choice((0.5, 0.5, 0.6, 0.7)), features=features,
            verified_deadline=(end - DAY * 14) if has_verified else None,
            price=rng.choice((49, 99, 149, 199)),
            certificate_available_date=None if self_paced or rng.random() < 0.5 else end + DAY * 2,
            entrance_exam_min=rng.choice((0.5, 0.7)) if entrance else None,
            language=rng.choice(LANGUAGES), outline=outline,
        ))
    return courses


def change_outline(course: SynthCourse, rng: random.Random) -> None:
    """An authoring edit: append a chapter, add a unit to the last sequence, or rename a sequence."""
    course.edits += 1
    keys = _KeyMaker(course.org, course.number, course.run)
    choice = rng.random()
    if choice < 0.4:
        n = len(course.outline) + 1
        seq = _sequence(keys, rng, f"Bonus material {course.edits}", graded=False, due=None, n_units=rng.randint(1, 3))
        course.outline.append({"block_key": keys.block("chapter", rng), "display_name": f"Week {n}: Extras",
                               "sequences": [seq]})
    elif choice < 0.7:
        seq = course.outline[-1]["sequences"][-1]
        title = f"{seq['display_name']}: addendum {course.edits}"
        seq["units"] = [*seq["units"], _unit(keys, rng, title, seq["graded"])]
    else:
        chapter = course.outline[rng.randrange(len(course.outline))]
        seq = chapter["sequences"][rng.randrange(len(chapter["sequences"]))]
        seq["display_name"] = f"{seq['display_name']} (revised)"
    course.refresh()


@dataclass(slots=True)
class SynthProgram:
    uuid: str
    title: str
    type: str
    type_slug: str
    catalog_keys: tuple[str, ...]
    org: str
    revision: int = 0
    deleted: bool = False


def make_programs(rng: random.Random, n: int, courses: list[SynthCourse], origin: datetime,
                  days: int) -> list[SynthProgram]:
    """Programs of 2 to 4 catalog courses (all their runs), mostly of courses running through the history."""
    # Only courses with a verified seat: a program certificate needs verified course certificates.
    catalog = list(dict.fromkeys(c.catalog_key for c in courses if c.has_verified)) or [courses[0].catalog_key]
    early, late = origin + DAY * (days // 4), origin + DAY * (days * 4 // 5)
    running = [k for k in catalog if any(c.catalog_key == k and c.start <= early and c.end >= late for c in courses)]
    programs = []
    for i in range(n):
        size = min(len(catalog), rng.choice((2, 2, 3, 4)))
        pool = running if len(running) >= size and rng.random() < 0.7 else catalog
        keys = tuple(rng.sample(pool, size)) if size else ()
        ptype, slug = PROGRAM_TYPES[i % len(PROGRAM_TYPES)]
        org = keys[0].split("+")[0] if keys else ORGS[0]
        subject = next((c.name for c in courses if keys and c.catalog_key == keys[0]), "Learning")
        programs.append(SynthProgram(rng_uuid(rng), f"{subject} {ptype} {i + 1}", ptype, slug, keys, org))
    return programs


def program_snapshot(program: SynthProgram, courses: list[SynthCourse], pathway_uuid: str) -> ProgramSnapshot:
    runs_by_catalog: dict[str, list[SynthCourse]] = {}
    for c in courses:
        runs_by_catalog.setdefault(c.catalog_key, []).append(c)
    program_courses = []
    for ck in program.catalog_keys:
        runs = runs_by_catalog.get(ck, [])
        first = runs[0] if runs else None
        program_courses.append({
            "key": ck, "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"course:{ck}")),
            "title": first.name if first else ck,
            "image": {"src": IMAGE.format(org=first.org, number=first.number, run=first.run)} if first else None,
            "short_description": f"Part of {program.title}",
            "course_runs": [_run(r) for r in runs],
        })
    sizes = {"large": (1440, 480), "medium": (726, 242), "small": (435, 145), "x-small": (348, 116)}
    base = f"https://www.example.org/programs/{program.uuid}"
    banner = {name: {"url": f"{base}/banner-{name}.jpg", "width": w, "height": h}
              for name, (w, h) in sizes.items() if name != "x-small" or program.revision % 2 == 0}
    pathways = [{"id": 1 + program.revision % 3, "uuid": pathway_uuid, "name": f"{program.org} credit pathway",
                 "org_name": program.org, "email": f"credit@{program.org.lower()}.example.org",
                 "description": "Earn credit towards a degree.", "destination_url": "https://www.example.org/credit",
                 "pathway_type": "credit" if program.revision % 2 == 0 else "industry",
                 "program_uuids": [program.uuid]}]
    return ProgramSnapshot.model_validate({
        "uuid": program.uuid, "title": program.title + (" (updated)" if program.revision else ""),
        "subtitle": f"Learn {program.title.split(' ')[0]} in {len(program.catalog_keys)} courses",
        "type": program.type, "type_slug": program.type_slug, "status": "active",
        "marketing_slug": program.type_slug + "-" + program.uuid[:8],
        "marketing_url": f"https://www.example.org/{program.type_slug}/{program.uuid[:8]}",
        "card_image_url": f"https://www.example.org/programs/{program.uuid}/card.jpg",
        "banner_image": banner,
        "authoring_organizations": [{"key": program.org, "name": f"{program.org} University",
                                     "logo_image_url": f"https://www.example.org/orgs/{program.org}.png",
                                     "certificate_logo_image_url": None}],
        "courses": program_courses, "pathways": pathways,
        "applicable_seat_types": ["verified", "professional", "credit"],
        "is_program_eligible_for_one_click_purchase": program.revision % 2 == 0,
    })


def _run(course: SynthCourse) -> dict[str, Any]:
    seats: list[dict[str, Any]] = [{"type": "audit", "price": "0.00", "currency": "USD"}]
    if course.verified_deadline is not None:
        seats.append({"type": "verified", "upgrade_deadline": course.verified_deadline, "price": f"{course.price}.00",
                      "currency": "USD", "sku": f"SKU-{course.number}-{course.run}"})
    return {"key": course.key, "title": course.name, "type": "verified" if course.has_verified else "audit",
            "pacing_type": "self_paced" if course.pacing == "self" else "instructor_paced",
            "start": course.start, "end": course.end, "enrollment_start": course.enrollment_start,
            "enrollment_end": course.enrollment_end, "advertised_start": None, "status": "published",
            "seats": seats}
