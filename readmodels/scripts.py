"""Loads the Lua scripts shipped in readmodels/lua."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def lua(name: str) -> str:
    return resources.files("readmodels").joinpath("lua", f"{name}.lua").read_text()
