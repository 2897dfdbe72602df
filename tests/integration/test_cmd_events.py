"""`lp produce FILE.jsonl` then `lp tail TOPIC` against the real broker."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tests.pipeline import Pipeline
from tests.samples import sample_data
from tools.cli import app as lp
from tools.stack import Stack

pytestmark = pytest.mark.integration

GOAL = "ext.learning.course.goal.changed.v1"
ENROLLED = "org.openedx.learning.course.enrollment.created.v1"


def cloudevent(type_: str, id_: str, **extra: object) -> str:
    return orjson.dumps({"type": type_, "id": id_, "time": "2026-03-01T12:00:00Z", "source": "tests",
                         "data": sample_data(type_), **extra}).decode()


def test_produce_jsonl_file_then_tail_prints_the_decoded_events(stack: Stack, tmp_path: Path) -> None:
    settings = Pipeline.create(stack).settings  # own topics, nothing started
    env = {"LP_KAFKA_BOOTSTRAP": settings.kafka_bootstrap, "LP_TOPIC_PREFIX": settings.topic_prefix}
    file = tmp_path / "events.jsonl"
    file.write_text("\n".join([
        cloudevent(GOAL, "00000000-0000-4000-8000-000000000001"),
        '{"type": "' + GOAL + '", "id": "oops"',
        cloudevent(ENROLLED, "00000000-0000-4000-8000-000000000002"),
        cloudevent(GOAL, "00000000-0000-4000-8000-000000000003", key="chosen-key"),
        "",
    ]))
    runner = CliRunner()

    produced = runner.invoke(lp, ["produce", str(file)], env=env)
    print(produced.output)
    tailed = runner.invoke(lp, ["tail", "learning-learner-activity", "--from-beginning", "--max", "2", "--json",
                                "--timeout", "60"], env=env)
    print(tailed.output)

    assert produced.exit_code == 1  # one bad line, the others still produced
    assert f"{file}:line 2: not JSON" in produced.output
    assert "produced 3 event(s)" in produced.output
    assert f"{settings.topic_prefix}learning-course-enrollment-lifecycle" in produced.output
    assert tailed.exit_code == 0, tailed.output
    records = sorted((orjson.loads(line) for line in tailed.output.splitlines()), key=lambda r: r["id"])
    assert [(r["kind"], r["type"], r["id"], r["key"]) for r in records] == [
        ("event", GOAL, "00000000-0000-4000-8000-000000000001", "7"),
        ("event", GOAL, "00000000-0000-4000-8000-000000000003", "chosen-key"),
    ]
    assert records[0]["data"] == sample_data(GOAL)
