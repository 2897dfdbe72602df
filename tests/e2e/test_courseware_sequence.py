"""GET /api/courseware/sequence/{usage_key} and GET /api/courseware/resume/{course_key} through the
real projector, Redis and HTTP, at a fixed "now" (LP_FAKE_NOW)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from readmodels.models import SequenceMetadata
from readmodels.views.sequence import BANNER_DUE, BANNER_ENDED, BANNER_PREREQUISITE
from tests.builders import (
    COURSE,
    FEATURES,
    SEQUENCE_FLAGS,
    T0,
    access_role,
    block,
    bookmark,
    completion,
    course_published,
    enrollment,
    position,
    subsection_grade,
)
from tests.pipeline import Pipeline
from tools.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
SELF_PACED = "course-v1:edX+Self+2026"
ADMIN = 1


def b(kind: str, name: str, course: str = COURSE) -> str:
    return block(course, kind, name)


def _unit(name: str, title: str, icon: str, blocks: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "block_key": b("vertical", name),
        "display_name": title,
        "icon": icon,
        "graded": False,
        "contains_gated_content": False,
        **extra,
        "blocks": [
            {"block_key": k, "block_type": k.split("type@")[1].split("+")[0], "completable": True} for k in blocks
        ],
    }


def _outline() -> list[dict[str, Any]]:
    return [
        {
            "block_key": b("chapter", "ch1"),
            "display_name": "Introduction",
            "sequences": [
                {
                    **SEQUENCE_FLAGS,
                    "block_key": b("sequential", "s1"),
                    "display_name": "Welcome",
                    "format": "Homework",
                    "graded": True,
                    "is_time_limited": True,
                    "units": [
                        _unit("u1", "Hello", "video", [b("video", "v1"), b("html", "h1")], page_title="Hello tooltip"),
                        _unit("u2", "Quiz", "problem", [b("problem", "p1")], graded=True, contains_gated_content=True),
                    ],
                },
                {
                    **SEQUENCE_FLAGS,
                    "block_key": b("sequential", "s2"),
                    "display_name": "Exam",
                    "hide_after_due": True,
                    "due": "2026-03-05T00:00:00Z",
                    "hide_from_toc": True,
                    "is_proctored": True,
                    "prerequisite": {"block_key": b("sequential", "s1"), "min_score": 0.8},
                    "units": [_unit("u3", "Final", "problem", [b("problem", "p2")])],
                },
            ],
        },
        {
            "block_key": b("chapter", "ch2"),
            "display_name": "Later",
            "sequences": [
                {
                    **SEQUENCE_FLAGS,
                    "block_key": b("sequential", "s3"),
                    "display_name": "Future",
                    "hide_after_due": True,
                    "due": "2026-04-01T00:00:00Z",
                    "units": [_unit("u4", "Soon", "other", [])],
                },
            ],
        },
    ]


def _world() -> list[Any]:
    sp = SELF_PACED
    return [
        course_published(
            COURSE, outline=_outline(), features={**dict.fromkeys(FEATURES, False), "content_type_gating": True}
        ),
        course_published(
            sp,
            pacing="self",
            end="2026-03-05T00:00:00Z",
            outline=[
                {
                    "block_key": b("chapter", "c", sp),
                    "display_name": "C",
                    "sequences": [
                        {
                            **SEQUENCE_FLAGS,
                            "block_key": b("sequential", "q", sp),
                            "display_name": "Quiz",
                            "hide_after_due": True,
                            "units": [],
                        }
                    ],
                }
            ],
        ),
        # 42: audit; u1 complete, u2 half done; bookmark on u2; last at unit 2; prerequisite met
        enrollment("created", 42),
        completion(42, b("video", "v1"), 1.0, modified=T0 + timedelta(minutes=1)),
        completion(42, b("html", "h1"), 1.0, modified=T0 + timedelta(minutes=2)),
        completion(42, b("problem", "p1"), 0.5, modified=T0 + timedelta(minutes=3)),
        bookmark(42, b("vertical", "u2")),
        position(42, b("sequential", "s1"), 2),
        subsection_grade(42, b("sequential", "s1"), 0.9),
        # 43: prerequisite not met; 44: completion on a block not in the outline; 46: on a unit
        enrollment("created", 43, mode="verified"),
        subsection_grade(43, b("sequential", "s1"), 0.5),
        completion(44, b("problem", "gone"), 1.0),
        completion(46, b("vertical", "u4"), 1.0),
        access_role("added", 900),
    ]


@pytest.fixture(scope="module")
def pipeline(stack: Stack) -> Iterator[Pipeline]:
    p = Pipeline.create(stack, fake_now=NOW).start()
    p.produce(_world())
    p.wait_applied()
    yield p
    p.stop()


def _as(p: Pipeline, uid: int, *, admin: bool = False) -> dict[str, str]:
    return {"Authorization": f"JWT {p.token(uid, administrator=admin)}"}


def seq(key: str) -> str:
    return f"/api/courseware/sequence/{key}"


def _ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


# Sequence ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [None, 42, 43])
def test_get_sequence_has_every_field_real_clients_need(pipeline: Pipeline, who: int | None) -> None:
    for name in ("s1", "s2", "s3"):
        body = _ok(pipeline.get(seq(b("sequential", name)), user=who))
        SequenceMetadata.model_validate(body)
        assert body["tag"] == "sequential" and body["item_id"] == b("sequential", name)
        assert isinstance(body["gated_content"], dict) and isinstance(body["items"], list)
        assert body["position"] is None or body["position"] >= 1


def test_get_sequence_for_enrolled_learner(pipeline: Pipeline) -> None:
    body = _ok(pipeline.get(seq(b("sequential", "s1")) + "?preview=0", user=42))
    assert body["items"] == [
        {
            "content": "",
            "page_title": "Hello tooltip",
            "type": "video",
            "id": b("vertical", "u1"),
            "bookmarked": False,
            "path": "Introduction > Welcome > Hello",
            "graded": False,
            "contains_content_type_gated_content": False,
            "href": "",
            "complete": True,
        },
        {
            "content": "",
            "page_title": "Quiz",
            "type": "problem",
            "id": b("vertical", "u2"),
            "bookmarked": True,
            "path": "Introduction > Welcome > Quiz",
            "graded": True,
            "contains_content_type_gated_content": True,
            "href": "",
            "complete": False,
        },
    ]
    assert body["element_id"] == "s1" and body["position"] == 2
    assert (body["is_time_limited"], body["is_proctored"], body["format"]) == (True, False, "Homework")
    assert (body["display_name"], body["sequence_name"]) == ("Welcome", "Welcome")
    assert (body["save_position"], body["show_completion"], body["exclude_units"]) == (True, True, True)
    assert body["next_url"] is None and body["prev_url"] is None and body["gated_sequence_paywall"] is None
    assert body["banner_text"] is None and body["is_hidden_after_due"] is False
    assert body["gated_content"] == {
        "prereq_id": None,
        "prereq_url": None,
        "prereq_section_name": None,
        "gated": False,
        "gated_section_name": "Welcome",
    }


def test_get_sequence_anonymous_has_no_completion_and_is_gated_by_prerequisites(pipeline: Pipeline) -> None:
    body = _ok(pipeline.get(seq(b("sequential", "s1"))))
    assert all("complete" not in item for item in body["items"])
    assert (body["save_position"], body["show_completion"], body["position"]) == (False, False, None)
    exam = _ok(pipeline.get(seq(b("sequential", "s2"))))
    assert exam["gated_content"]["gated"] is True


def test_get_sequence_unmet_prerequisite_gates_items(pipeline: Pipeline) -> None:
    body = _ok(pipeline.get(seq(b("sequential", "s2")), user=43))
    assert body["gated_content"] == {
        "prereq_id": b("sequential", "s1"),
        "prereq_url": f"http://localhost:18000/courses/{COURSE}/jump_to/{b('sequential', 's1')}",
        "prereq_section_name": "Welcome",
        "gated": True,
        "gated_section_name": "Exam",
    }
    assert body["items"] == [
        {"id": b("vertical", "u3"), "type": "vertical", "display_name": "Final", "is_gated": True, "content": ""}
    ]
    assert body["navigation_disabled"] is True and body["is_proctored"] is True


def test_get_sequence_met_prerequisite_is_not_gated(pipeline: Pipeline) -> None:
    body = _ok(pipeline.get(seq(b("sequential", "s2")), user=42))
    assert body["gated_content"]["gated"] is False and body["items"][0]["id"] == b("vertical", "u3")


def test_get_sequence_that_gates_another_shows_the_prerequisite_banner_until_fulfilled(pipeline: Pipeline) -> None:
    """Upstream xmodule/tests/test_sequence.py `test_gated_content` through the route: s1 is the
    prerequisite of s2 (min 0.8). Learner 43 (0.5 on s1) and anonymous callers see the banner on s1,
    learner 42 (0.9) does not; staff masquerading as 43 see 43's banner."""
    welcome = seq(b("sequential", "s1"))
    unmet = _ok(pipeline.get(welcome, user=43))
    assert unmet["banner_text"] == BANNER_PREREQUISITE and unmet["gated_content"]["gated"] is False
    assert _ok(pipeline.get(welcome))["banner_text"] == BANNER_PREREQUISITE
    assert _ok(pipeline.get(welcome, user=42))["banner_text"] is None
    masq = _ok(pipeline.get(welcome + "?username=learner43", headers=_as(pipeline, ADMIN, admin=True)))
    assert masq["banner_text"] == BANNER_PREREQUISITE
    assert _ok(pipeline.get(seq(b("sequential", "s3")), user=43))["banner_text"] is None  # gates nothing


def test_get_sequence_hidden_after_due_for_learner_only(pipeline: Pipeline) -> None:
    assert _ok(pipeline.get(seq(b("sequential", "s2")), user=42))["is_hidden_after_due"] is True
    assert _ok(pipeline.get(seq(b("sequential", "s3")), user=42))["is_hidden_after_due"] is False  # due later
    staff = _ok(pipeline.get(seq(b("sequential", "s2")), headers=_as(pipeline, 900)))
    assert staff["is_hidden_after_due"] is False and staff["banner_text"] is None
    sp = _ok(pipeline.get(seq(b("sequential", "q", SELF_PACED)), user=42))
    assert sp["is_hidden_after_due"] is True  # self-paced: the course has ended


def test_get_sequence_staff_masquerading_sees_banner(pipeline: Pipeline) -> None:
    admin = _as(pipeline, ADMIN, admin=True)
    body = _ok(pipeline.get(seq(b("sequential", "s2")) + "?username=learner42", headers=admin))
    assert body["is_hidden_after_due"] is False and body["banner_text"] == BANNER_DUE
    assert body["items"][0]["complete"] is False  # the learner's data
    sp = _ok(
        pipeline.get(
            seq(b("sequential", "q", SELF_PACED)) + "?username=learner42", headers=_as(pipeline, ADMIN, admin=True)
        )
    )
    assert sp["banner_text"] == BANNER_ENDED
    masq = _ok(pipeline.get(seq(b("sequential", "s2")) + "?username=learner43", headers=_as(pipeline, 900)))
    assert masq["gated_content"]["gated"] is True  # the learner's gating


def test_get_sequence_masquerade_rules(pipeline: Pipeline) -> None:
    url = seq(b("sequential", "s1")) + "?username=learner42"
    assert pipeline.get(url, user=43).status_code == 403
    assert pipeline.get(url).status_code == 401
    assert (
        pipeline.get(
            seq(b("sequential", "s1")) + "?username=ghost", headers=_as(pipeline, ADMIN, admin=True)
        ).status_code
        == 404
    )


def test_get_sequence_non_sequence_block_is_422_with_empty_body(pipeline: Pipeline) -> None:
    for key in (b("vertical", "u1"), b("problem", "p1"), b("chapter", "ch1")):
        r = pipeline.get(seq(key), user=42)
        assert r.status_code == 422 and r.content == b""


@pytest.mark.parametrize(
    "key",
    [
        "not-a-usage-key",
        "block-v1:edX+Nope+X+type@sequential+block@s1",
        b("sequential", "missing"),
        "block-v1:edX+DemoX+Demo_Course+type@*+block@x",
        "block-v1:edX+DemoX+Demo_Course+type@sequential+block@a%0Ab",
        "i4x://edX/DemoX/sequential/s1",  # names no course run: was a 503 (TypeError printing it)
    ],
)
def test_get_sequence_unknown_or_bad_key_is_404(pipeline: Pipeline, key: str) -> None:
    r = pipeline.get(seq(key), user=42)
    assert r.status_code == 404 and "developer_message" in r.json()


def test_get_sequence_trailing_slash_is_tolerated(pipeline: Pipeline) -> None:
    assert _ok(pipeline.get(seq(b("sequential", "s1")) + "/"))["item_id"] == b("sequential", "s1")


# Resume -----------------------------------------------------------------------------------------


def resume(course: str = COURSE) -> str:
    return f"/api/courseware/resume/{course}"


def test_get_resume_points_at_newest_completion(pipeline: Pipeline) -> None:
    assert _ok(pipeline.get(resume(), user=42)) == {
        "block_id": b("problem", "p1"),
        "section_id": b("sequential", "s1"),
        "unit_id": b("vertical", "u2"),
    }


def test_get_resume_completion_on_a_unit(pipeline: Pipeline) -> None:
    assert _ok(pipeline.get(resume(), user=46)) == {
        "block_id": b("vertical", "u4"),
        "section_id": b("sequential", "s3"),
        "unit_id": b("vertical", "u4"),
    }


@pytest.mark.parametrize(("who", "course"), [(44, COURSE), (45, COURSE), (42, "course-v1:edX+Nope+X")])
def test_get_resume_without_a_usable_completion_is_nulls(pipeline: Pipeline, who: int, course: str) -> None:
    assert _ok(pipeline.get(resume(course), user=who)) == {"block_id": None, "section_id": None, "unit_id": None}


def test_get_resume_anonymous_is_401(pipeline: Pipeline) -> None:
    r = pipeline.get(resume())
    assert r.status_code == 401 and "developer_message" in r.json()


def test_get_resume_masquerade(pipeline: Pipeline) -> None:
    staff = _ok(pipeline.get(resume() + "?username=learner42", headers=_as(pipeline, 900)))
    assert staff["block_id"] == b("problem", "p1")
    assert pipeline.get(resume() + "?username=learner42", user=43).status_code == 403
    assert pipeline.get(resume() + "?username=ghost", headers=_as(pipeline, 900)).status_code == 404


def test_get_resume_bad_course_key_is_400(pipeline: Pipeline) -> None:
    r = pipeline.get(resume("nope"), user=42)
    assert r.status_code == 400 and "nope" in r.json()["developer_message"]
