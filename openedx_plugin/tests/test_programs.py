"""Catalog programs from the LMS's catalog cache (stand-in of `openedx.core.djangoapps.catalog.utils`)."""

from __future__ import annotations

import copy
import io

import pytest
from django.core.cache import cache
from django.core.management import call_command
from learner_projector_openedx.snapshots.program import build_program

from tests import standins

UUID = "0d0d0d0d-0000-4000-8000-000000000001"
DISCOVERY = {
    "uuid": UUID, "title": "Data Science", "subtitle": "Learn it", "type": "MicroMasters",
    "type_attrs": {"slug": "micromasters"}, "status": "active", "marketing_slug": "ds",
    "marketing_url": "https://x/ds", "card_image_url": "https://img/card.png",
    "banner_image": {"large": {"url": "https://img/l.png", "width": 1440, "height": 480}},
    "authoring_organizations": [{"key": "edX", "name": "edX", "logo_image_url": None}],
    "courses": [{"key": "edX+DemoX", "uuid": "c1", "title": "Demo",
                 "image": {"src": "https://img/c.png", "description": None, "height": 100, "width": 200},
                 "course_runs": [{"key": "course-v1:edX+DemoX+Demo_Course", "type": "verified",
                                  "pacing_type": "self_paced", "start": "2024-01-01T00:00:00Z", "status": "published",
                                  "seats": [{"type": "verified", "price": "49.00", "currency": "USD",
                                             "upgrade_deadline": "2030-01-01T00:00:00Z", "sku": "S"}]}]}],
    "pathway_ids": [5], "applicable_seat_types": ["verified"], "is_program_eligible_for_one_click_purchase": True,
}
PATHWAY = {"id": 5, "uuid": "p5", "name": "Credit", "org_name": "Uni", "email": "a@b", "description": "d",
           "destination_url": "https://u", "pathway_type": "credit", "program_uuids": [UUID]}


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("lp_publish_programs", *args, stdout=out)
    return out.getvalue()


def test_discovery_document_becomes_the_snapshot():
    snap = build_program(DISCOVERY, [PATHWAY])

    assert (snap.type, snap.type_slug, snap.title) == ("MicroMasters", "micromasters", "Data Science")
    run = snap.courses[0].course_runs[0]
    assert str(run.key) == "course-v1:edX+DemoX+Demo_Course" and run.start.year == 2024
    assert run.seats[0].price == "49.00"
    assert snap.courses[0].image == {"src": "https://img/c.png", "height": "100", "width": "200"}
    assert snap.pathways[0].program_uuids == [UUID]
    assert snap.banner_image["large"].width == 1440


def test_command_sends_changed_programs_once_and_deleted_ones(published, db):
    standins.STATE.programs = [copy.deepcopy(DISCOVERY)]
    standins.STATE.pathways = [PATHWAY]

    first = run()
    second = run()
    standins.STATE.programs[0]["title"] = "Data Science II"
    third = run()
    standins.STATE.programs = []
    fourth = run()

    assert "1 sent, 0 unchanged" in first and "0 sent, 1 unchanged" in second and "1 sent" in third
    assert "1 deleted" in fourth
    assert published.types() == ["ext.catalog.program.changed.v1"] * 2 + ["ext.catalog.program.deleted.v1"]
    assert [p["program"].title for p, _ in published.of("ext.catalog.program.changed.v1")] == [
        "Data Science", "Data Science II"]
