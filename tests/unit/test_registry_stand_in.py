"""The schema registry stand-in (tools/registry_stand_in.py) in process: the REST subset
confluent-kafka uses, Confluent's answers and error codes, and its file surviving a restart."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.unit.test_avro_codec import GOLDEN
from tools.registry_stand_in import create_app


def client(path: Path) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(path)), base_url="http://registry.test")


ENROLL, GRADE = GOLDEN["schemas"]["2"], next(s for s in GOLDEN["schemas"].values() if "grade" in s)


async def test_register_same_schema_under_two_subjects_gets_one_id(tmp_path: Path) -> None:
    api = client(tmp_path / "s.json")

    first = await api.post("/subjects/dev-a-x.CloudEvent/versions?normalize=False", json={"schema": ENROLL})
    again = await api.post("/subjects/dev-a-x.CloudEvent/versions", json={"schema": json.dumps(json.loads(ENROLL))})
    other = await api.post("/subjects/dev-b-x.CloudEvent/versions", json={"schema": ENROLL})
    grade = await api.post("/subjects/dev-a-y.CloudEvent/versions", json={"schema": GRADE})

    assert first.status_code == 200 and first.json() == {"id": 1}
    assert again.json() == {"id": 1} and other.json() == {"id": 1} and grade.json() == {"id": 2}
    assert first.headers["content-type"] == "application/vnd.schemaregistry.v1+json"


async def test_get_schema_by_id_and_subjects(tmp_path: Path) -> None:
    api = client(tmp_path / "s.json")
    await api.post("/subjects/dev-a-x.CloudEvent/versions", json={"schema": ENROLL})

    assert (await api.get("/schemas/ids/1?subject=dev-a-value")).json() == {"schema": ENROLL}
    assert (await api.get("/subjects")).json() == ["dev-a-x.CloudEvent"]
    assert (await api.get("/subjects/dev-a-x.CloudEvent/versions")).json() == [1]
    found = (await api.post("/subjects/dev-a-x.CloudEvent", json={"schema": ENROLL})).json()
    assert found == {"subject": "dev-a-x.CloudEvent", "id": 1, "version": 1, "schema": ENROLL}


async def test_unknown_things_answer_404_with_confluent_error_codes(tmp_path: Path) -> None:
    api = client(tmp_path / "s.json")

    missing = await api.get("/schemas/ids/7")
    association = await api.get("/associations/resources/-/dev-a?resourceType=topic&associationType=value")
    subject = await api.get("/subjects/nope/versions")
    lookup = await api.post("/subjects/nope", json={"schema": ENROLL})

    assert (missing.status_code, missing.json()["error_code"]) == (404, 40403)
    assert association.status_code == 404
    assert (subject.status_code, subject.json()["error_code"]) == (404, 40401)
    assert lookup.json()["error_code"] == 40401


async def test_invalid_schema_is_422(tmp_path: Path) -> None:
    api = client(tmp_path / "s.json")

    bad = await api.post("/subjects/a/versions", json={"schema": '{"type": "nope"}'})
    proto = await api.post("/subjects/a/versions", json={"schema": "syntax = 'proto3';", "schemaType": "PROTOBUF"})

    assert (bad.status_code, bad.json()["error_code"]) == (422, 42201)
    assert proto.status_code == 422


async def test_schemas_survive_a_restart_on_the_same_file(tmp_path: Path) -> None:
    await client(tmp_path / "s.json").post("/subjects/a/versions", json={"schema": GRADE})

    again = client(tmp_path / "s.json")

    assert (await again.get("/schemas/ids/1")).json() == {"schema": GRADE}
    assert (await again.post("/subjects/b/versions", json={"schema": ENROLL})).json() == {"id": 2}
