"""Error bodies and the exceptions routes raise. Courseware routes answer `{"developer_message"}`,
the program routes `{"detail"}` (API.md "Errors"); which one is decided by the path, so every
router (and the platform middleware) shares one mapping."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import AuthError

COURSEWARE_PREFIX = "/api/courseware"


class ApiError(Exception):
    """An answer other than 200, with a message for the route's error key."""

    def __init__(self, status_code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.headers = headers


def error_key(path: str) -> str:
    return "developer_message" if path.startswith(COURSEWARE_PREFIX) else "detail"


def error_body(path: str, message: Any, request_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {error_key(path): message}
    if request_id is not None:
        body["request_id"] = request_id
    return body


def shown(key: str, limit: int = 200) -> str:
    """A key for an error message: literal, cut to a readable length."""
    return key if len(key) <= limit else key[:limit] + "..."


def install_error_handlers(app: FastAPI) -> None:
    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return JSONResponse(error_body(request.url.path, exc.message), exc.status_code, headers=exc.headers)

    async def on_auth_error(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(error_body(request.url.path, str(exc)), 401, headers={"WWW-Authenticate": "JWT"})

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return JSONResponse(error_body(request.url.path, exc.detail), exc.status_code, headers=exc.headers)

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(AuthError, on_auth_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
