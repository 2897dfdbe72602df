"""Sequence rules at a fixed now: gating, hidden-after-due, banner, completion, position."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from events.base import lww_version
from readmodels import fieldnames
from readmodels.facts import UserFacts
from readmodels.models import SequenceMetadata
from readmodels.views.sequence import (
    BANNER_DUE,
    BANNER_ENDED,
    BANNER_PREREQUISITE,
    hidden_after_due,
    sequence_metadata,
)

CK = "course-v1:edX+DemoX+Demo_Course"
SEQ = "block-v1:edX+DemoX+Demo_Course+type@sequential+block@s2"
PRE = "block-v1:edX+DemoX+Demo_Course+type@sequential+block@s1"
NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
V = lww_version(1, "x")


def facts(uid: int | None = 7, **fields: Any) -> UserFacts:
    return UserFacts(uid, {k: f"{V}\t{orjson.dumps(v).decode()}" for k, v in fields.items()})


def sequence(**extra: Any) -> dict[str, Any]:
    return {
        "block_key": SEQ,
        "course_key": CK,
        "display_name": "Exam",
        "format": None,
        "chapter": {"block_key": "ch", "display_name": "Ch"},
        "hide_after_due": True,
        "due": "2026-03-05T00:00:00Z",
        "units": [
            {
                "block_key": "u1",
                "display_name": "One",
                "page_title": None,
                "icon": "problem",
                "graded": True,
                "contains_gated_content": True,
                "completable": ["p1", "p2"],
            },
            {
                "block_key": "u2",
                "display_name": "Two",
                "page_title": "Tip",
                "icon": "other",
                "graded": False,
                "contains_gated_content": False,
                "completable": [],
            },
        ],
        **extra,
    }


INSTRUCTOR = {"pacing": "instructor", "end": None, "features": {"content_type_gating": True}}
SELF = {"pacing": "self", "end": "2026-03-01T00:00:00Z", "features": {}}


def view(
    seq: dict[str, Any], course: dict[str, Any], user: UserFacts, completions: dict[str, float] | None = None, **kw: Any
) -> dict[str, Any]:
    body = sequence_metadata(seq, course, SEQ, "s2", user, completions or {}, NOW, lms_base_url="http://lms", **kw)
    SequenceMetadata.model_validate(body)
    return body


def test_hidden_after_due_by_pacing() -> None:
    assert hidden_after_due(sequence(), INSTRUCTOR, NOW)
    assert not hidden_after_due(sequence(due="2026-04-01T00:00:00Z"), INSTRUCTOR, NOW)
    assert not hidden_after_due(sequence(hide_after_due=False), INSTRUCTOR, NOW)
    assert hidden_after_due(sequence(due=None), SELF, NOW)
    assert not hidden_after_due(sequence(), {**SELF, "end": None}, NOW)


def test_items_completion_bookmarks_and_type_gating() -> None:
    user = facts(
        **{
            fieldnames.f_bookmark("u2"): True,
            fieldnames.f_enrollment(CK): {"mode": "audit", "is_active": True},
            fieldnames.f_position(SEQ): 2,
        }
    )
    body = view(sequence(), INSTRUCTOR, user, {"p1": 1.0, "p2": 0.9})
    one, two = body["items"]
    assert (one["complete"], two["complete"]) == (False, True)  # no completable block: complete
    assert (one["bookmarked"], two["bookmarked"]) == (False, True)
    assert (one["page_title"], two["page_title"]) == ("One", "Tip")
    assert one["path"] == "Ch > Exam > One" and one["contains_content_type_gated_content"] is True
    assert body["position"] == 2 and body["is_hidden_after_due"] is True and body["banner_text"] is None
    verified = facts(**{fieldnames.f_enrollment(CK): {"mode": "verified", "is_active": True}})
    assert view(sequence(), INSTRUCTOR, verified)["items"][0]["contains_content_type_gated_content"] is False


def test_anonymous_view() -> None:
    body = view(sequence(), INSTRUCTOR, facts(None))
    assert all("complete" not in i for i in body["items"])
    assert (body["save_position"], body["show_completion"], body["position"]) == (False, False, None)


def test_prerequisite_gating_by_effective_users_grade() -> None:
    seq = sequence(prerequisite={"block_key": PRE, "min_score": 0.8, "display_name": "Welcome"})
    gated = view(seq, INSTRUCTOR, facts(**{fieldnames.f_subsection_grade(PRE): 0.79}))
    assert gated["gated_content"] == {
        "prereq_id": PRE,
        "prereq_url": f"http://lms/courses/{CK}/jump_to/{PRE}",
        "prereq_section_name": "Welcome",
        "gated": True,
        "gated_section_name": "Exam",
    }
    assert gated["items"][0] == {"id": "u1", "type": "vertical", "display_name": "One", "is_gated": True, "content": ""}
    assert view(seq, INSTRUCTOR, facts())["gated_content"]["gated"] is True  # no grade known: 0
    assert view(seq, INSTRUCTOR, facts(None))["gated_content"]["gated"] is True  # anonymous
    met = view(seq, INSTRUCTOR, facts(**{fieldnames.f_subsection_grade(PRE): 0.8}))["gated_content"]
    assert met == {
        "prereq_id": None,
        "prereq_url": None,
        "prereq_section_name": None,
        "gated": False,
        "gated_section_name": "Exam",
    }


def test_staff_never_hidden_and_masquerade_banner() -> None:
    assert view(sequence(), INSTRUCTOR, facts(), caller_is_staff=True)["is_hidden_after_due"] is False
    masq = view(sequence(), INSTRUCTOR, facts(), caller_is_staff=True, masquerading=True)
    assert (masq["is_hidden_after_due"], masq["banner_text"]) == (False, BANNER_DUE)
    assert view(sequence(), SELF, facts(), caller_is_staff=True, masquerading=True)["banner_text"] == BANNER_ENDED
    as_staff = view(sequence(), INSTRUCTOR, facts(), caller_is_staff=True, masquerading=True, learner_is_staff=True)
    assert as_staff["banner_text"] is None


NEXT = "block-v1:edX+DemoX+Demo_Course+type@sequential+block@s3"


def test_prerequisite_banner_on_a_gate_follows_the_gated_and_fulfilled_states() -> None:
    """Ported from upstream xmodule/tests/test_sequence.py `test_gated_content` (sequence 1_2 is
    both gated by a prerequisite and itself the gate of another sequence): gated -> items gated, no
    banner; prerequisite met but gate unfulfilled -> content and the prerequisite banner; gate
    fulfilled -> content, no banner."""
    seq = sequence(
        hide_after_due=False,
        prerequisite={"block_key": PRE, "min_score": 0.8, "display_name": "Welcome"},
        gates=[{"block_key": NEXT, "min_score": 0.6}],
    )
    gated = view(seq, INSTRUCTOR, facts(**{fieldnames.f_subsection_grade(PRE): 0.5}))
    assert gated["gated_content"]["gated"] is True and gated["banner_text"] is None
    assert all(item.get("is_gated") for item in gated["items"])

    gate = view(seq, INSTRUCTOR,
                facts(**{fieldnames.f_subsection_grade(PRE): 0.9, fieldnames.f_subsection_grade(SEQ): 0.59}))
    assert gate["banner_text"] == BANNER_PREREQUISITE
    assert gate["gated_content"] == {
        "prereq_id": None,
        "prereq_url": None,
        "prereq_section_name": None,
        "gated": False,
        "gated_section_name": "Exam",
    }
    assert gate["item_id"] == SEQ and [i["id"] for i in gate["items"]] == ["u1", "u2"]

    done = view(seq, INSTRUCTOR,
                facts(**{fieldnames.f_subsection_grade(PRE): 0.9, fieldnames.f_subsection_grade(SEQ): 0.6}))
    assert done["banner_text"] is None and done["gated_content"]["gated"] is False


def test_prerequisite_banner_needs_every_gate_fulfilled_and_anonymous_fulfils_none() -> None:
    """Upstream `is_gate_fulfilled` (openedx/core/lib/gating/api.py): a gate is unfulfilled while any
    content that requires it is unfulfilled for the user; the banner's text is upstream's."""
    gates = [{"block_key": NEXT, "min_score": 0.5}, {"block_key": "x", "min_score": 0.9}]
    seq = sequence(hide_after_due=False, gates=gates)
    low = facts(**{fieldnames.f_subsection_grade(SEQ): 0.7})
    assert view(seq, INSTRUCTOR, low)["banner_text"] == BANNER_PREREQUISITE
    assert view(seq, INSTRUCTOR, facts(**{fieldnames.f_subsection_grade(SEQ): 0.9}))["banner_text"] is None
    assert view(seq, INSTRUCTOR, facts())["banner_text"] == BANNER_PREREQUISITE  # no grade known: 0
    assert view(seq, INSTRUCTOR, facts(None))["banner_text"] == BANNER_PREREQUISITE  # anonymous
    assert view(sequence(hide_after_due=False), INSTRUCTOR, facts(None))["banner_text"] is None  # gates nothing


def test_prerequisite_banner_replaces_the_masquerade_hidden_after_due_notice() -> None:
    """Upstream `_get_render_metadata` sets the prerequisite banner after `get_metadata` chose the
    hidden-content banner, so on an unfulfilled gate the staff member masquerading sees it instead."""
    seq = sequence(gates=[{"block_key": NEXT, "min_score": 0.5}])
    masq = view(seq, INSTRUCTOR, facts(), caller_is_staff=True, masquerading=True)
    assert masq["banner_text"] == BANNER_PREREQUISITE and masq["is_hidden_after_due"] is False
    done = facts(**{fieldnames.f_subsection_grade(SEQ): 0.5})
    assert view(seq, INSTRUCTOR, done, caller_is_staff=True, masquerading=True)["banner_text"] == BANNER_DUE


def test_sequence_documents_list_the_sequences_each_one_gates() -> None:
    """A sequence that is a prerequisite carries `gates` (the sequences requiring it, with their
    minimum scores); one that gates nothing has no such key."""
    from readmodels.documents import sequence_documents
    from tests.builders import SEQUENCE_FLAGS, block, course_published

    def s(name: str, prereq: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "block_key": block(CK, "sequential", name),
            "display_name": name,
            **SEQUENCE_FLAGS,
            "prerequisite": prereq,
            "units": [],
        }

    first = block(CK, "sequential", "a")
    outline = [
        {
            "block_key": block(CK, "chapter", "c"),
            "display_name": "C",
            "sequences": [
                s("a"),
                s("b", {"block_key": first, "min_score": 0.8}),
                s("c", {"block_key": first, "min_score": 0.5}),
            ],
        }
    ]
    docs = {d["block_key"]: d for d in sequence_documents(course_published(CK, outline=outline).data.course)}
    assert docs[first]["gates"] == [
        {"block_key": block(CK, "sequential", "b"), "min_score": 0.8},
        {"block_key": block(CK, "sequential", "c"), "min_score": 0.5},
    ]
    assert "gates" not in docs[block(CK, "sequential", "b")]
    assert docs[block(CK, "sequential", "b")]["prerequisite"]["display_name"] == "a"
