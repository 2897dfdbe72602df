"""Read-your-writes: a read carrying `X-Read-Model-Min-Token` waits, up to the configured bound,
until the projector has applied that Kafka position, and says whether it got there."""

from __future__ import annotations

import asyncio
import time

from readmodels.readers import Readers
from readmodels.tokens import TokenError, decode_token

POLL_S = 0.02


async def wait_fresh(readers: Readers, token: str, bound_s: float) -> bool:
    """True once the token's position is applied; False when the bound passed or the token is not ours."""
    try:
        position = decode_token(token.strip())
    except TokenError:
        return False
    deadline = time.monotonic() + bound_s
    while not await readers.applied(position):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        await asyncio.sleep(min(POLL_S, remaining))
    return True
