"""Program routes: progress details and program lists, under three prefixes."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
