"""Typed dependencies for the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.auth import Caller, authenticate
from readmodels.readers import Readers
from readmodels.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_readers(request: Request) -> Readers:
    return request.app.state.readers  # type: ignore[no-any-return]


def get_caller(request: Request) -> Caller | None:
    return authenticate(request, request.app.state.settings)


SettingsDep = Annotated[Settings, Depends(get_settings)]
ReadersDep = Annotated[Readers, Depends(get_readers)]
CallerDep = Annotated[Caller | None, Depends(get_caller)]
