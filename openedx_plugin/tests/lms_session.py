"""An LMS/Studio session with the plugin, for the main suite's end-to-end test (run with the Open edX
interpreter, from openedx_plugin/, with LP_TEST_KAFKA_BOOTSTRAP, LP_TEST_SCHEMA_REGISTRY_URL,
LP_TEST_TOPIC_PREFIX and LP_TEST_DB set):

    python -m tests.lms_session USER_ID

Studio publishes the demo course (stand-in modulestore, tests/blocks.py) and the learner completes
one problem through edx-completion's own API; the plugin sends both through the real producer.
Prints the publisher's counts as JSON; exits 1 if anything was not published.
"""

from __future__ import annotations

import json
import os
import sys

import django


def main(user_id: int) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    from completion.models import BlockCompletion
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from learner_projector_openedx.publisher import PUBLISHER, flush_producer, watch_producer_errors
    from waffle.models import Switch

    from tests import standins
    from tests.blocks import COURSE, demo_course

    watch_producer_errors()
    call_command("migrate", run_syncdb=True, verbosity=0)
    Switch.objects.update_or_create(name="completion.enable_completion_tracking", defaults={"active": True})
    user, _ = get_user_model().objects.get_or_create(id=user_id, defaults={"username": f"learner{user_id}"})

    standins.STATE.courses[COURSE] = demo_course()
    standins.COURSE_PUBLISHED.send(sender=None, course_key=COURSE)  # Studio's publish
    BlockCompletion.objects.submit_completion(user, COURSE.make_usage_key("problem", "p1"), 1.0)

    drained = PUBLISHER.drain(120)
    flush_producer()
    stats = PUBLISHER.stats()
    print(json.dumps({"drained": drained, **stats}))
    return 0 if drained and not stats.get("failed") and not stats.get("dropped") and not stats["producer_errors"] else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
