"""Transient failures of Redis and Kafka, and retrying through them.

`retry_forever` retries an action with bounded exponential backoff, without end, for as long as
its failure is transient (`is_transient`): the caller's batch stays unacked meanwhile, so nothing
is lost and the order is kept. Any other error is raised at once (the pipeline then applies the
batch event by event, or dead-letters; projectors/pipeline.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


async def retry_forever(
    what: str, action: Callable[[], Awaitable[T]], *, first_delay: float = 0.05, max_delay: float = 2.0
) -> T:
    delay = first_delay
    attempt = 0
    while True:
        try:
            return await action()
        except (ConnectionError, TimeoutError, OSError) as exc:
            attempt += 1
            log.warning("%s failed (attempt %d, retrying in %.2fs): %s", what, attempt, delay, exc)
        except Exception as exc:
            # redis-py and aiokafka wrap transport errors in their own classes.
            if not is_transient(exc):
                raise
            attempt += 1
            log.warning("%s failed (attempt %d, retrying in %.2fs): %r", what, attempt, delay, exc)
        await asyncio.sleep(delay)
        delay = min(max_delay, delay * 2)


def is_transient(exc: BaseException) -> bool:
    from aiokafka.errors import KafkaError
    from redis.exceptions import BusyLoadingError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeout

    if isinstance(exc, RedisConnectionError | RedisTimeout | BusyLoadingError):
        return True
    if isinstance(exc, KafkaError):  # producing a dead letter: any broker error is worth retrying
        return True
    # Server states that pass: out of memory (noeviction), a read-only replica, a failing disk
    # (MISCONF), another script running too long (BUSY). redis-py strips the code from the message
    # of the errors it maps to classes, so those are matched by class. Retrying keeps the batch
    # unacked and the order intact.
    from redis.exceptions import OutOfMemoryError, ReadOnlyError, TryAgainError

    if isinstance(exc, OutOfMemoryError | ReadOnlyError | TryAgainError):
        return True
    return str(exc).startswith(("LOADING", "MISCONF", "READONLY", "OOM", "BUSY "))
