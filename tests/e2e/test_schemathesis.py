"""schemathesis over every route of the app's OpenAPI schema, with a valid JWT, against a pipeline
filled with a small history: no 5xx and no response-schema violation, for generated inputs
(positive and negative) and for known-good ones that reach real data.

Bounded: a few examples per operation, no shrinking, no example database.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from readmodels.settings import load_settings
from tests.builders import COURSE, block, course_published, enrollment
from tests.e2e.test_programs_api import catalog_course, certificate, course_run, linked, program_changed
from tests.pipeline import Pipeline
from tools.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

USER = 42
PROGRAM = "5c4e2c1b-0000-4000-8000-0000000000aa"
ENTERPRISE = "0f0e0d0c-0000-4000-8000-0000000000ee"
CHECKS = [not_a_server_error, response_schema_conformance]
MAX_EXAMPLES = 12

# The schema the app serves, built without starting it (creating the app opens no sockets).
SCHEMA = schemathesis.openapi.from_dict(create_app(load_settings()).openapi())
OPERATIONS = {op.label: op for op in (result.ok() for result in SCHEMA.get_all_operations())}

# Inputs that reach real data, per path template parameter.
KNOWN = {
    "course_key": COURSE,
    "usage_key": block(COURSE, "sequential", "s1"),
    "program_uuid": PROGRAM,
    "enterprise_uuid": ENTERPRISE,
}


def history() -> list[Any]:
    other = "course-v1:edX+Other+2026"
    return [
        course_published(),
        enrollment("created", USER, mode="verified"),
        enrollment("created", USER, other, mode="audit"),
        certificate(USER, COURSE, url="https://lms.example.org/certificates/c42"),
        linked(USER, other, ENTERPRISE),
        program_changed(
            PROGRAM, "Fuzzing", [catalog_course(1, course_run(COURSE)), catalog_course(2, course_run(other))]
        ),
    ]


@pytest.fixture(scope="module")
def pipeline(stack: Stack) -> Iterator[Pipeline]:
    p = Pipeline.create(stack).start()
    p.produce(history())
    p.wait_applied()
    yield p
    p.stop()


def _strategy(operation: Any) -> st.SearchStrategy[Any]:
    modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
    strategies = []
    for mode in modes:
        try:
            strategies.append(operation.as_strategy(generation_mode=mode))
        except Exception:  # an operation without inputs has no negative cases
            continue
    return st.one_of(strategies)


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_fuzz_operation_has_no_server_error_and_matches_schema(pipeline: Pipeline, label: str) -> None:
    operation = OPERATIONS[label]
    headers = {"Authorization": f"JWT {pipeline.token(USER)}"}

    known = {
        p["name"]: KNOWN[p["name"]]
        for p in operation.definition.raw.get("parameters", ())
        if p.get("in") == "path" and p["name"] in KNOWN
    }
    # The celebration POST reads its JSON body itself (no requestBody in the schema): give one.
    body = {"body": {"first_section": False}, "media_type": "application/json"} if operation.method == "post" else {}
    known_case = operation.Case(path_parameters=known, **body)
    response = known_case.call_and_validate(base_url=pipeline.api_url, headers=headers, checks=CHECKS)
    assert response.status_code < 500

    sent: list[int] = []

    @given(case=_strategy(operation))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any) -> None:
        sent.append(case.call_and_validate(base_url=pipeline.api_url, headers=headers, checks=CHECKS).status_code)

    fuzz()
    assert sent, "no generated request was sent"
