"""Loads the Lua scripts shipped in readmodels/lua.

A line `-- @include <name>` is replaced by the text of `<name>.lua`: EVAL scripts cannot load
modules, and the courseware read scripts share their prelude (serving generation, masquerade).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_INCLUDE = re.compile(r"^-- @include (\w+)$", re.MULTILINE)


@cache
def lua(name: str) -> str:
    text = resources.files("readmodels").joinpath("lua", f"{name}.lua").read_text()
    return _INCLUDE.sub(lambda m: lua(m.group(1)).rstrip("\n"), text)
