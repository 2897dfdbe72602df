"""JSON answers rendered once, with orjson, straight to bytes (Starlette's JSONResponse goes
through the standard library's encoder, several times slower on a course body)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """`content` as JSON; bytes are a body already rendered (the memoised routes')."""
        return content if isinstance(content, bytes) else orjson.dumps(content)
