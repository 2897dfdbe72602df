"""Create the project's topics explicitly (auto-creation is off on our brokers)."""

from __future__ import annotations

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from readmodels.settings import Settings

KEEP_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1"}


def topic_plan(settings: Settings) -> list[NewTopic]:
    n = settings.topic_partitions
    plan = [NewTopic(t, n, 1, topic_configs=KEEP_FOREVER) for t in settings.source_topics]
    plan += [NewTopic(f"{t}.dlq", 1, 1, topic_configs=KEEP_FOREVER) for t in settings.source_topics]
    plan += [NewTopic(t, n, 1) for t in settings.projected_topics]
    return plan


async def ensure_topics(settings: Settings) -> list[str]:
    """Create whatever topic of the plan is missing; return the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topic_plan(settings) if t.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()
