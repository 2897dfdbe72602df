"""Django settings of the plugin's test project: sqlite, edx-completion, openedx-events and
edx-event-bus-kafka, the plugin loaded from its `lms.djangoapp` entry point and its plugin settings
applied as edx-platform applies them (edx-django-utils `get_plugin_apps` / `add_plugins`).

The event bus goes to the Kafka and schema registry named by LP_TEST_KAFKA_BOOTSTRAP and
LP_TEST_SCHEMA_REGISTRY_URL (the main suite passes its session stack's); without them the
producer points at closed ports, which is what the "bus is down" tests want anyway.
"""

import os

from edx_django_utils.plugins import add_plugins, get_plugin_apps

SECRET_KEY = "plugin-tests"
USE_TZ = True
TIME_ZONE = "UTC"
DEBUG = False
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ.get("LP_TEST_DB", ":memory:")}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SITE_ID = 1
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sites",
    "waffle",
    "eventtracking.django.apps.EventTrackingConfig",  # edx-completion emits tracking logs, as in the LMS
    "openedx_events",
    "edx_event_bus_kafka",
    "tests.standin_app.apps.StandinConfig",
    *get_plugin_apps("lms.djangoapp"),  # edx-completion and this plugin, by their entry points
]
FEATURES = {"ENABLE_EDXNOTES": True, "ENABLE_INTEGRITY_SIGNATURE": False}

EVENTS_SERVICE_NAME = "lms"
EVENT_BUS_PRODUCER = "edx_event_bus_kafka.create_producer"
EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS = os.environ.get("LP_TEST_KAFKA_BOOTSTRAP", "127.0.0.1:9")
EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL = os.environ.get("LP_TEST_SCHEMA_REGISTRY_URL", "http://127.0.0.1:9")
EVENT_BUS_TOPIC_PREFIX = os.environ.get("LP_TEST_TOPIC_PREFIX", "")
EVENT_BUS_PRODUCER_CONFIG = {}
EVENT_TRACKING_ENABLED = True  # a tracker with no backends: edx-completion emits into nothing
EVENT_TRACKING_BACKENDS = {}
LOGGING_CONFIG = None

add_plugins(__name__, "lms.djangoapp", "common")
