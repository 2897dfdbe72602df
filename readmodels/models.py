"""Response models of the courseware routes (OpenAPI at /docs). The views build plain dicts;
these models document their shape, and the unit tests validate view output against them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Enrollment(_Model):
    mode: str | None
    is_active: bool


class Uri(_Model):
    uri: str | None


class Media(_Model):
    course_image: Uri
    course_video: Uri


class AccessExpiration(_Model):
    expiration_date: str
    masquerading_expired_course: bool
    upgrade_deadline: str | None
    upgrade_url: str | None


class SelectedGoal(_Model):
    days_per_week: int
    subscribed_to_reminders: bool


class CourseGoals(_Model):
    selected_goal: SelectedGoal | None
    weekly_learning_goal_enabled: bool


class Celebrations(_Model):
    first_section: bool
    weekly_goal: bool
    streak_length_to_celebrate: int | None
    streak_discount_enabled: bool


class EntranceExamData(_Model):
    entrance_exam_enabled: bool
    entrance_exam_id: str
    entrance_exam_minimum_score_pct: float
    entrance_exam_current_score: float
    entrance_exam_passed: bool


class CertificateData(_Model):
    cert_status: str
    cert_web_view_url: str | None
    download_url: str | None
    certificate_available_date: str | None


class RelatedProgramProgress(_Model):
    completed: int
    in_progress: int
    not_started: int


class RelatedProgram(_Model):
    progress: RelatedProgramProgress
    slug: str | None
    title: str | None
    url: str
    uuid: str


class Notes(_Model):
    enabled: bool
    visible: bool


class CourseMetadata(_Model):
    """All keys are present unless `requested_fields` names a subset."""

    id: str
    name: str | None
    org: str | None
    number: str | None
    short_description: str | None
    effort: str | None
    language: str | None
    license: str | None
    start: str | None
    end: str | None
    enrollment_start: str | None
    enrollment_end: str | None
    pacing: str | None
    marketing_url: str | None
    show_calculator: bool
    start_display: str | None
    start_type: str
    media: Media
    enrollment: Enrollment
    access_expiration: AccessExpiration | None
    offer: None
    content_type_gating_enabled: bool
    course_goals: CourseGoals
    celebrations: Celebrations
    user_has_passing_grade: bool
    entrance_exam_data: EntranceExamData
    certificate_data: CertificateData | None
    related_programs: list[RelatedProgram] | None
    user_timezone: str | None
    notes: Notes
    verification_status: str
    verify_identity_url: str | None
    linkedin_add_to_profile_url: str | None
    can_access_proctored_exams: bool
    is_integrity_signature_enabled: bool
    learning_assistant_enabled: bool
    course_exit_page_is_active: bool
    user_needs_integrity_signature: bool


class ResumePoint(_Model):
    block_id: str | None
    section_id: str | None
    unit_id: str | None


class SequenceItem(_Model):
    content: str
    page_title: str | None = None
    type: str
    id: str
    bookmarked: bool | None = None
    path: str | None = None
    graded: bool | None = None
    contains_content_type_gated_content: bool | None = None
    href: str | None = None
    complete: bool | None = None  # omitted for anonymous callers
    display_name: str | None = None  # gated items only
    is_gated: bool | None = None  # gated items only


class GatedContent(_Model):
    prereq_id: str | None
    prereq_url: str | None
    prereq_section_name: str | None
    gated: bool
    gated_section_name: str | None


class SequenceMetadata(_Model):
    items: list[SequenceItem]
    element_id: str
    item_id: str
    is_time_limited: bool
    is_proctored: bool
    position: int | None
    tag: str
    next_url: None
    prev_url: None
    banner_text: str | None
    save_position: bool
    show_completion: bool
    gated_content: GatedContent
    sequence_name: str | None
    display_name: str | None
    format: str | None
    exclude_units: bool
    gated_sequence_paywall: None
    is_hidden_after_due: bool
    navigation_disabled: bool


class CelebrationAck(_Model):
    """The celebration POST's body: what was (or, masquerading, would have been) acknowledged."""

    first_section: bool | None = None
    weekly_goal: bool | None = None


class CoursewareError(_Model):
    developer_message: str
    request_id: str | None = None
