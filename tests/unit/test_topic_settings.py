"""Source topics and prefixes as deployments configure them (LP_SOURCE_TOPICS, LP_TOPIC_PREFIX,
LP_EVENT_BUS_TOPIC_PREFIX joined with "-" as the LMS's EVENT_BUS_TOPIC_PREFIX is)."""

from __future__ import annotations

import pytest

from readmodels.settings import SOURCE_TOPICS, SettingsError, load_settings
from tools.stack import settings_env
from tools.topics import topic_plan


def test_default_source_topics_are_the_seven_of_events_md() -> None:
    assert load_settings().source_topics == SOURCE_TOPICS


def test_event_bus_prefix_joins_with_a_dash_after_the_plain_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LP_EVENT_BUS_TOPIC_PREFIX", "prod")
    assert load_settings().topic("learning-completion") == "prod-learning-completion"
    assert load_settings(topic_prefix="t1.").topic("learning-completion") == "t1.prod-learning-completion"
    assert load_settings(topic_prefix="t1.", event_bus_topic_prefix="").topic("x") == "t1.x"


def test_source_topics_from_the_environment_reach_the_topic_plan_and_children(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LP_SOURCE_TOPICS", "learning-course-enrollment-lifecycle, course-catalog-info-changed")
    monkeypatch.setenv("LP_EVENT_BUS_TOPIC_PREFIX", "dev")
    settings = load_settings()

    assert settings.source_topics == ("dev-learning-course-enrollment-lifecycle", "dev-course-catalog-info-changed")
    names = {t.name for t in topic_plan(settings)}
    assert {"dev-course-catalog-info-changed", "dev-course-catalog-info-changed.dlq"} <= names
    env = settings_env(settings)
    assert env["LP_SOURCE_TOPICS"] == "learning-course-enrollment-lifecycle,course-catalog-info-changed"
    monkeypatch.delenv("LP_SOURCE_TOPICS")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert load_settings().source_topics == settings.source_topics


def test_empty_source_topics_fail_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LP_SOURCE_TOPICS", " , ")
    with pytest.raises(SettingsError, match=r"^LP_SOURCE_TOPICS: "):
        load_settings()
