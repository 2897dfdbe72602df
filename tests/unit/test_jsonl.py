"""`lp produce` / `lp tail` without Kafka: JSONL lines -> messages, consumed messages -> records."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from events import decode
from tests.builders import COURSE
from tests.samples import sample_data
from tools.eventio import Target, full_topic, read_stack_env, resolve_target
from tools.jsonl import JsonlLineError, describe, format_line, parse_line, parse_lines

GOAL = "ext.learning.course.goal.changed.v1"
EVENT_ID = "5f0c6f2e-7a1b-4c3d-9e8f-0a1b2c3d4e5f"


def line(**fields: object) -> str:
    base: dict[str, object] = {"type": GOAL, "id": EVENT_ID, "time": "2026-03-01T12:00:00Z",
                               "source": "test", "data": sample_data(GOAL)}
    base.update(fields)
    return orjson.dumps({k: v for k, v in base.items() if v is not None}).decode()


def test_parse_line_builds_binary_mode_message_on_type_topic_with_prefix() -> None:
    message = parse_line(line(), 3, topic_prefix="dev.")

    assert message is not None
    assert message.line == 3
    assert message.topic == "dev.learning-learner-activity"
    assert message.key == b"7"  # the type's partition key
    headers = dict(message.headers)
    assert headers["ce_type"] == GOAL.encode()
    assert headers["ce_id"] == EVENT_ID.encode()
    assert headers["ce_source"] == b"test"
    assert decode(message.headers, message.value).data.goal.days_per_week == 3


def test_parse_line_uses_explicit_topic_and_key_as_given() -> None:
    message = parse_line(line(topic="my-topic", key="k1"), 1, topic_prefix="dev.")

    assert message is not None
    assert (message.topic, message.key) == ("my-topic", b"k1")


def test_parse_line_blank_line_is_skipped() -> None:
    assert parse_line("   ", 1) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (line(id=None, data=None), "missing id, data"),
        (line(type=5), "`type` must be a non-empty string"),
        (line(key=5), "`key` must be a string"),
        (line(type="ext.nope.v1"), "unknown event type 'ext.nope.v1'"),
        (line(id="not-a-uuid"), "ce_id is not a UUID"),
        (line(data={"goal": {"user_id": 7}}), "invalid data: goal.course_key: Field required"),
    ],
)
def test_parse_line_bad_line_raises_error_naming_line_and_reason(text: str, reason: str) -> None:
    with pytest.raises(JsonlLineError) as info:
        parse_line(text, 12)

    assert info.value.line == 12
    assert reason in info.value.reason
    assert str(info.value).startswith("line 12: ")


def test_parse_line_without_validation_sends_invalid_data_but_needs_a_topic() -> None:
    message = parse_line(line(data={"goal": "broken"}), 1, validate=False)
    assert message is not None and message.value == b'{"goal":"broken"}'
    assert message.key is None

    with pytest.raises(JsonlLineError, match="no `topic` given"):
        parse_line(line(type="ext.nope.v1"), 2, validate=False)


def test_parse_lines_keeps_good_lines_and_reports_bad_ones_by_number() -> None:
    messages, errors = parse_lines([line(), "", "oops", line(id="bad"), line()])

    assert [m.line for m in messages] == [1, 5]
    assert [e.line for e in errors] == [3, 4]


def test_describe_consumed_event_decodes_it() -> None:
    message = parse_line(line(), 1)
    assert message is not None

    record = describe("t", 0, 9, message.key, message.value, message.headers)

    assert record["kind"] == "event"
    assert record["at"] == "t:0:9"
    assert record["data"]["goal"]["course_key"] == COURSE
    assert "ext.learning.course.goal.changed.v1" in format_line(record)


def test_describe_dead_letter_shows_reason_and_source() -> None:
    headers = [("ce_type", b"x.v1"), ("ce_id", b"1"), ("dlq_reason", b"unknown event type 'x.v1'"),
               ("dlq_source", b"t:1:42")]

    record = describe("t.dlq", 0, 0, b"key", b"{}", headers)

    assert record["kind"] == "dead_letter"
    assert (record["reason"], record["source"], record["type"]) == ("unknown event type 'x.v1'", "t:1:42", "x.v1")
    assert format_line(record) == "t.dlq:0:0 DLQ from t:1:42 type=x.v1 id=1: unknown event type 'x.v1'"


def test_describe_undecodable_message_shows_reason() -> None:
    record = describe("t", 0, 0, None, b"\xff", [])

    assert record["kind"] == "undecodable"
    assert "missing header ce_type" in format_line(record)


def test_full_topic_adds_prefix_once() -> None:
    assert full_topic("learning-completion", "dev.") == "dev.learning-completion"
    assert full_topic("dev.learning-completion.dlq", "dev.") == "dev.learning-completion.dlq"
    assert full_topic("learning-completion", "") == "learning-completion"


def test_resolve_target_prefers_env_then_stack_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / "stack.env"
    env_file.write_text("KAFKA_BOOTSTRAP=127.0.0.1:1111\nTOPIC_PREFIX=run.\nAPI_URL=http://x=y\n"
                        "SCHEMA_REGISTRY_URL=http://127.0.0.1:3333\n")
    for name in ("LP_KAFKA_BOOTSTRAP", "LP_TOPIC_PREFIX", "LP_EVENT_BUS_TOPIC_PREFIX", "LP_SCHEMA_REGISTRY_URL"):
        monkeypatch.delenv(name, raising=False)

    def where(t: Target) -> tuple[str, str, str]:
        return t.bootstrap, t.topic_prefix, t.settings.schema_registry_url

    assert read_stack_env(env_file)["API_URL"] == "http://x=y"
    assert where(resolve_target(None, None, env_file)) == ("127.0.0.1:1111", "run.", "http://127.0.0.1:3333")
    assert resolve_target(None, None, tmp_path / "absent.env").bootstrap == "127.0.0.1:9092"

    monkeypatch.setenv("LP_KAFKA_BOOTSTRAP", "127.0.0.1:2222")
    monkeypatch.setenv("LP_EVENT_BUS_TOPIC_PREFIX", "dev")
    monkeypatch.setenv("LP_SCHEMA_REGISTRY_URL", "http://r:1")
    assert where(resolve_target(None, None, env_file)) == ("127.0.0.1:2222", "dev-", "http://r:1")
    assert where(resolve_target("h:3", "p.", env_file, "http://q")) == ("h:3", "p.", "http://q")


def test_produce_command_unreadable_file_exits_2_before_connecting(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tools.cli import app

    result = CliRunner().invoke(app, ["produce", str(tmp_path / "absent.jsonl"), "--bootstrap", "127.0.0.1:1"])

    assert result.exit_code == 2
    assert "cannot read" in result.output
