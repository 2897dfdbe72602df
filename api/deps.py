"""Typed dependencies for the routes (shared by every router).

All `async def`: FastAPI runs a plain `def` dependency in the threadpool, a hop per dependency per
request that cost more than the route's own work. None of them blocks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from api import clock
from api.answer_memo import AnswerMemo
from api.auth import Caller, authenticate
from api.bus import EventBus
from api.errors import ApiError
from readmodels.readers import Readers
from readmodels.settings import Settings
from readmodels.views.common import ViewConfig


def view_config(s: Settings) -> ViewConfig:
    return ViewConfig(
        lms_base_url=s.lms_base_url.rstrip("/"),
        account_mfe_url=s.account_mfe_url.rstrip("/"),
        ecommerce_url=s.ecommerce_url.rstrip("/"),
        linkedin_org_id=s.linkedin_org_id or None,
        streak_lengths=tuple(s.streak_lengths),
    )


# Plain accessors, for a route to call directly: every dependency FastAPI resolves costs a round of
# its machinery per request, which on these routes is more than the accessor itself.


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def readers_of(request: Request) -> Readers:
    readers: Readers = request.app.state.readers
    return readers


def memo_of(request: Request) -> AnswerMemo:
    memo: AnswerMemo = request.app.state.answer_memo
    return memo


def bus_of(request: Request) -> EventBus:
    bus: EventBus = request.app.state.bus
    return bus


def now_of(request: Request) -> datetime:
    return clock.now(request.app.state.settings)


def view_config_of(request: Request) -> ViewConfig:
    config: ViewConfig | None = getattr(request.app.state, "view_config", None)
    if config is None:  # settings never change for an app: build it once
        config = request.app.state.view_config = view_config(request.app.state.settings)
    return config


async def get_settings(request: Request) -> Settings:
    return settings_of(request)


async def get_readers(request: Request) -> Readers:
    return readers_of(request)


async def get_bus(request: Request) -> EventBus:
    return bus_of(request)


async def get_caller(request: Request) -> Caller | None:
    return authenticate(request, request.app.state.settings)


async def require_caller(request: Request) -> Caller:
    caller = authenticate(request, request.app.state.settings)
    if caller is None:
        raise ApiError(401, "Authentication credentials were not provided.", headers={"WWW-Authenticate": "JWT"})
    return caller


async def get_now(request: Request) -> datetime:
    return now_of(request)


async def get_view_config(request: Request) -> ViewConfig:
    return view_config_of(request)


SettingsDep = Annotated[Settings, Depends(get_settings)]
ReadersDep = Annotated[Readers, Depends(get_readers)]
BusDep = Annotated[EventBus, Depends(get_bus)]
CallerDep = Annotated[Caller | None, Depends(get_caller)]
RequiredCallerDep = Annotated[Caller, Depends(require_caller)]
NowDep = Annotated[datetime, Depends(get_now)]
ViewConfigDep = Annotated[ViewConfig, Depends(get_view_config)]
