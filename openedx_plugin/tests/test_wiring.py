"""The plugin is loaded the way edx-platform loads plugins (entry points, `plugin_app`)."""

from __future__ import annotations

from completion.models import BlockCompletion
from django.apps import apps
from django.conf import settings
from django.db.models.signals import post_save
from django.test import override_settings
from learner_projector_openedx.settings.common import plugin_settings, producer_defaults
from learner_projector_openedx.signals import EXT_SIGNALS
from openedx_events.event_bus import merge_producer_configs


def test_app_is_installed_from_its_lms_entry_point():
    assert apps.get_app_config("learner_projector").name == "learner_projector_openedx"


def test_every_ext_type_is_in_the_producer_config_on_its_default_topic():
    config = settings.EVENT_BUS_PRODUCER_CONFIG
    assert config["ext.learning.block.completion.changed.v1"] == {
        "learning-completion": {"event_key_field": "completion.user_id", "enabled": True}}
    assert {s.event_type for s in EXT_SIGNALS} <= set(config)


def test_the_operators_entry_wins_as_for_upstream_events():
    class Settings:
        EVENT_BUS_PRODUCER_CONFIG = {"ext.learning.block.completion.changed.v1": {
            "learning-completion": {"enabled": False}, "site-completions": {"event_key_field": "completion.user_id",
                                                                            "enabled": True}}}

    plugin_settings(Settings)
    entry = Settings.EVENT_BUS_PRODUCER_CONFIG["ext.learning.block.completion.changed.v1"]
    assert entry["learning-completion"]["enabled"] is False
    assert entry["site-completions"]["enabled"] is True
    assert merge_producer_configs(producer_defaults(), {}) == producer_defaults()


def test_receivers_are_connected_with_their_senders_and_dispatch_uids():
    lookups = {receiver[0] for receiver in post_save.receivers}  # (dispatch_uid, id(sender))
    assert ("learner_projector_openedx.on_block_completion_saved", id(BlockCompletion)) in lookups


@override_settings(EVENT_BUS_PRODUCER_CONFIG={})
def test_settings_without_a_producer_config_get_ours():
    class Settings:
        pass

    plugin_settings(Settings)
    assert set(Settings.EVENT_BUS_PRODUCER_CONFIG) == {s.event_type for s in EXT_SIGNALS}
