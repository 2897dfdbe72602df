"""Read-your-writes: a read carrying `X-Read-Model-Min-Token` waits, up to the configured bound,
until the projector has applied that Kafka position, and says whether it got there.

Event-driven: the wait registers with the change feed (api/change_feed.py) before it checks Redis, and
checks again only when the projector announces a checkpoint past the token's offset (or the serving
generation switches); the check itself reads the serving generation's checkpoint, so a token is
honoured by any API worker or process and across a rebuild's switch.
"""

from __future__ import annotations

import time

from api.change_feed import ChangeFeed
from readmodels.readers import Readers
from readmodels.tokens import TokenError, decode_token


async def wait_fresh(readers: Readers, feed: ChangeFeed | None, token: str, bound_s: float) -> bool:
    """True once the token's position is applied; False when the bound passed or the token is not ours."""
    try:
        position = decode_token(token.strip())
    except TokenError:
        return False
    if feed is None:  # an app without its lifespan (no subscriber): no waiting
        return await readers.applied(position)
    deadline = time.monotonic() + bound_s
    with feed.expecting(position.checkpoint_field, position.offset) as expect:
        while not await readers.applied(position):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            await feed.wait_applied(expect, remaining)
    return True
