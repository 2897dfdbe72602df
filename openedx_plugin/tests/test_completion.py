"""Block completion with the real edx-completion: its own API saves a `BlockCompletion`, the plugin publishes."""

from __future__ import annotations

import pytest
from completion.models import BlockCompletion
from django.db import transaction
from learner_projector_openedx.data import CompletionData
from opaque_keys.edx.keys import UsageKey

TYPE = "ext.learning.block.completion.changed.v1"
BLOCK = UsageKey.from_string("block-v1:edX+DemoX+Demo_Course+type@html+block@intro")

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit runs as in production


def test_submit_completion_publishes_the_completion_with_the_rows_modified_time(published, user, completion_tracking):
    row, created = BlockCompletion.objects.submit_completion(user, BLOCK, 1.0)

    [(payload, time)] = published.of(TYPE)
    assert created
    assert payload == {"completion": CompletionData(user_id=user.id, course_key=BLOCK.course_key, block_key=BLOCK,
                                                    completion=1.0, modified=row.modified)}
    assert time == row.modified


def test_changed_completion_publishes_again_and_an_unchanged_one_does_not(published, user, completion_tracking):
    BlockCompletion.objects.submit_completion(user, BLOCK, 0.5)
    BlockCompletion.objects.submit_completion(user, BLOCK, 0.5)  # same value: edx-completion saves nothing
    BlockCompletion.objects.submit_completion(user, BLOCK, 1.0)

    values = [p["completion"].completion for p, _ in published.of(TYPE)]
    assert values == [0.5, 1.0]


def test_rolled_back_completion_publishes_nothing(published, user, completion_tracking):
    with pytest.raises(RuntimeError), transaction.atomic():
        BlockCompletion.objects.submit_completion(user, BLOCK, 1.0)
        raise RuntimeError("the request failed after the save")

    assert published.of(TYPE) == []


def test_completion_in_a_content_library_is_not_published(published, user, completion_tracking):
    library_block = UsageKey.from_string("lb:edX:lib1:html:intro")
    BlockCompletion.objects.submit_completion(user, library_block, 1.0)

    assert published.of(TYPE) == []
