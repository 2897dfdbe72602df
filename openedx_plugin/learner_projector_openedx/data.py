"""The data of our `ext.` events, as attrs classes in openedx-events' style.

One class per record of the contract's EVENTS.md ("Extension events", `CoursePublished`,
`Program`), with the same field names, order and optionality, and the same class names as the
product's payload classes (`events/*.py`): openedx-events names each nested Avro record after its
class, so the names are part of the schema (`events/avro_schemas/ext+*.avsc`, checked by
tests/test_schemas.py). A field is optional (`default=None` -> Avro `["null", T]`) exactly where
EVENTS.md marks it `?`; `kw_only` lets required fields follow optional ones in EVENTS.md's order.
Keys are opaque-key objects and times are aware datetimes, as upstream data classes take them
(openedx-events writes both as strings); Avro has no union of string and number, so a seat's
price is the catalog's decimal string and a course image is a map of strings.
"""

from __future__ import annotations

from datetime import datetime

import attr
from opaque_keys.edx.keys import CourseKey, UsageKey

record = attr.s(frozen=True, kw_only=True)


def optional(kind: type) -> attr.Attribute:
    return attr.ib(type=kind, default=None)


def required(kind: object) -> attr.Attribute:
    return attr.ib(type=kind)


# --- learning-completion ---------------------------------------------------------------------------

@record
class CompletionData:
    user_id = required(int)
    course_key = required(CourseKey)
    block_key = required(UsageKey)
    completion = required(float)
    modified = required(datetime)


# --- learning-course-grade-lifecycle ---------------------------------------------------------------

@record
class SubsectionGradeData:
    user_id = required(int)
    course_key = required(CourseKey)
    block_key = required(UsageKey)
    percent = required(float)


# --- learning-course-enrollment-lifecycle ----------------------------------------------------------

@record
class EnterpriseEnrollmentData:
    enterprise_customer_uuid = required(str)
    user_id = required(int)
    course_key = required(CourseKey)


# --- learning-learner-activity ---------------------------------------------------------------------

@record
class VisitData:
    user_id = required(int)
    course_key = required(CourseKey)
    visited_at = required(datetime)
    browser_timezone = optional(str)


@record
class CelebrationData:
    user_id = required(int)
    course_key = required(CourseKey)
    first_section = optional(bool)
    weekly_goal = optional(bool)


@record
class GoalData:
    user_id = required(int)
    course_key = required(CourseKey)
    days_per_week = required(int)
    subscribed_to_reminders = required(bool)


@record
class PreferenceData:
    user_id = required(int)
    key = required(str)
    # EVENTS.md requires the key with a null value allowed (null clears); attrs cannot say
    # "required but nullable", so it is optional here, which reads the same.
    value = optional(str)


@record
class BookmarkData:
    user_id = required(int)
    course_key = required(CourseKey)
    usage_key = required(UsageKey)
    bookmarked = required(bool)


@record
class PositionData:
    user_id = required(int)
    sequence_key = required(UsageKey)
    position = required(int)


@record
class SignatureData:
    user_id = required(int)
    course_key = required(CourseKey)


# --- content-course-lifecycle: CoursePublished -----------------------------------------------------

@record
class Mode:
    slug = required(str)
    min_price = optional(float)
    currency = optional(str)
    sku = optional(str)
    upgrade_deadline = optional(datetime)


@record
class EntranceExam:
    chapter_key = required(UsageKey)
    minimum_score_pct = required(float)


@record
class Features:
    celebrations = required(bool)
    streak_celebrations = required(bool)
    streak_discount = required(bool)
    course_goals = required(bool)
    notes = required(bool)
    learning_assistant = required(bool)
    integrity_signature = required(bool)
    content_type_gating = required(bool)
    course_duration_limits = required(bool)
    course_exit_page = required(bool)
    proctored_exams = required(bool)


@record
class Block:
    block_key = required(UsageKey)
    block_type = required(str)
    completable = required(bool)


@record
class Unit:
    block_key = required(UsageKey)
    display_name = required(str)
    page_title = optional(str)
    icon = required(str)  # "problem" | "video" | "other"
    graded = required(bool)
    contains_gated_content = required(bool)
    blocks = required(list[Block])


@record
class Prerequisite:
    block_key = required(UsageKey)
    min_score = required(float)


@record
class Sequence:
    block_key = required(UsageKey)
    display_name = required(str)
    format = optional(str)
    graded = required(bool)
    due = optional(datetime)
    hide_after_due = required(bool)
    is_time_limited = required(bool)
    is_proctored = required(bool)
    hide_from_toc = required(bool)
    prerequisite = optional(Prerequisite)
    units = required(list[Unit])


@record
class Chapter:
    block_key = required(UsageKey)
    display_name = required(str)
    sequences = required(list[Sequence])


@record
class CoursePublishedData:
    course_key = required(CourseKey)
    org = required(str)
    number = required(str)
    run = required(str)
    display_name = required(str)
    short_description = optional(str)
    overview = optional(str)
    effort = optional(str)
    language = optional(str)
    license = optional(str)
    start = optional(datetime)
    end = optional(datetime)
    enrollment_start = optional(datetime)
    enrollment_end = optional(datetime)
    advertised_start = optional(str)
    pacing = required(str)  # "instructor" | "self"
    course_image_url = optional(str)
    course_video_url = optional(str)
    marketing_url = optional(str)
    show_calculator = required(bool)
    invitation_only = required(bool)
    lowest_passing_grade = attr.ib(type=float, default=0.5)
    modes = required(list[Mode])
    expected_duration_weeks = optional(int)
    certificate_available_date = optional(datetime)
    honor_certificates_enabled = required(bool)
    entrance_exam = optional(EntranceExam)
    features = required(Features)
    outline = required(list[Chapter])


# --- catalog-program-lifecycle: Program ------------------------------------------------------------

@record
class Seat:
    type = required(str)
    upgrade_deadline = optional(datetime)
    price = optional(str)
    currency = optional(str)
    sku = optional(str)


@record
class CourseRun:
    key = required(CourseKey)
    title = optional(str)
    type = required(str)
    pacing_type = required(str)
    start = optional(datetime)
    end = optional(datetime)
    enrollment_start = optional(datetime)
    enrollment_end = optional(datetime)
    advertised_start = optional(str)
    status = required(str)
    seats = required(list[Seat])


@record
class ProgramCourse:
    key = required(str)
    uuid = required(str)
    title = required(str)
    image = optional(dict[str, str])
    short_description = optional(str)
    course_runs = required(list[CourseRun])


@record
class ImageSize:
    url = required(str)
    width = required(int)
    height = required(int)


@record
class Organization:
    key = required(str)
    name = required(str)
    logo_image_url = optional(str)
    certificate_logo_image_url = optional(str)


@record
class Pathway:
    id = required(int)
    uuid = required(str)
    name = required(str)
    org_name = required(str)
    email = required(str)
    description = required(str)
    destination_url = required(str)
    pathway_type = required(str)
    program_uuids = required(list[str])


@record
class ProgramSnapshot:
    uuid = required(str)
    title = required(str)
    subtitle = optional(str)
    type = required(str)
    type_slug = required(str)
    status = required(str)
    marketing_slug = optional(str)
    marketing_url = optional(str)
    card_image_url = optional(str)
    banner_image = optional(dict[str, ImageSize])
    authoring_organizations = required(list[Organization])
    courses = required(list[ProgramCourse])
    pathways = required(list[Pathway])
    applicable_seat_types = required(list[str])
    is_program_eligible_for_one_click_purchase = required(bool)


@record
class ProgramRef:
    uuid = required(str)
