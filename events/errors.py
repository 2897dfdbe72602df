"""The one error of decoding: a message that cannot become an Event."""

from __future__ import annotations


class DecodeError(ValueError):
    """The message cannot become an Event. `reason` is one line, fit for the `dlq_reason` header."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason.replace("\n", " ").replace("\r", " ")[:500]
