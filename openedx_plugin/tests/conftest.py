"""The plugin's test session: Django configured from tests/settings.py (pytest-django), stand-ins reset
per test, and `published`: what the plugin hands to the event bus, recorded instead of sent."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from learner_projector_openedx import publisher
from learner_projector_openedx.publisher import PUBLISHER
from waffle.models import Switch

from tests import standins


@pytest.fixture(autouse=True)
def _fresh_standins():
    standins.reset()
    yield
    standins.reset()


@dataclass
class Published:
    """Events in the order the sending thread got them: (event type, payload dict, time)."""

    events: list[tuple[str, dict[str, Any], Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, signal: Any, payload: Any, time: Any) -> bool:
        with self.lock:
            self.events.append((signal.event_type, dict(payload), time))
        return True

    def of(self, event_type: str) -> list[tuple[dict[str, Any], Any]]:
        assert PUBLISHER.drain(10), "the sending thread did not finish"
        return [(p, t) for k, p, t in self.events if k == event_type]

    def forget(self) -> None:
        """Drop what was recorded so far (e.g. what a fixture's saves published live)."""
        assert PUBLISHER.drain(10), "the sending thread did not finish"
        self.events.clear()

    def types(self) -> list[str]:
        assert PUBLISHER.drain(10), "the sending thread did not finish"
        return [k for k, _, _ in self.events]


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> Published:
    recorder = Published()
    assert PUBLISHER.drain(10)
    monkeypatch.setattr(PUBLISHER, "_sender", recorder.send)
    monkeypatch.setattr(publisher, "send", recorder.send)  # the commands send synchronously
    return recorder


@pytest.fixture
def user(db: Any) -> Any:
    from tests.standin_app.models import UserProfile

    learner = get_user_model().objects.create(username="alice", email="alice@example.com")
    UserProfile.objects.create(user=learner, name="Alice A")
    return learner


@pytest.fixture
def completion_tracking(db: Any) -> None:
    """edx-completion only records completions with its waffle switch on (as an LMS that uses it has)."""
    Switch.objects.update_or_create(name="completion.enable_completion_tracking", defaults={"active": True})
