"""Plugin settings (edx-django-utils `settings_config`, "common"): defaults the operator can override.

Our event types join the LMS's `EVENT_BUS_PRODUCER_CONFIG` with EVENTS.md's default topics, merged
*under* what is already there (openedx-events' own `merge_producer_configs`), so an entry the
operator sets in the LMS's YAML for one of our types (another topic, `enabled: False`) wins, as it
does for upstream events.
"""

from __future__ import annotations

from typing import Any


def producer_defaults() -> dict[str, dict[str, dict[str, Any]]]:
    from learner_projector_openedx.signals import PRODUCER_DEFAULTS

    return {event_type: {topic: {"event_key_field": key, "enabled": True}}
            for event_type, (topic, key) in PRODUCER_DEFAULTS.items()}


def plugin_settings(settings: Any) -> None:
    from openedx_events.event_bus import merge_producer_configs

    current = getattr(settings, "EVENT_BUS_PRODUCER_CONFIG", {}) or {}
    settings.EVENT_BUS_PRODUCER_CONFIG = merge_producer_configs(producer_defaults(), current)
    settings.LEARNER_PROJECTOR_QUEUE_SIZE = getattr(settings, "LEARNER_PROJECTOR_QUEUE_SIZE", 10_000)
