"""Open edX JWT authentication: header (`JWT` or `Bearer`) or the JWT cookie pair."""

from __future__ import annotations

from dataclasses import dataclass

import jwt
from fastapi import Request

from readmodels.settings import Settings

COOKIE_HEADER_PAYLOAD = "edx-jwt-cookie-header-payload"
COOKIE_SIGNATURE = "edx-jwt-cookie-signature"


class AuthError(Exception):
    """Credentials were given but are not valid: always 401."""


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: int
    username: str
    is_global_staff: bool


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("jwt", "bearer") or not token.strip():
            raise AuthError("unsupported Authorization header (use 'JWT <token>' or 'Bearer <token>')")
        return token.strip()
    payload = request.cookies.get(COOKIE_HEADER_PAYLOAD)
    signature = request.cookies.get(COOKIE_SIGNATURE)
    if payload and signature:
        return f"{payload}.{signature}"
    return None


def authenticate(request: Request, settings: Settings) -> Caller | None:
    """None for an anonymous request; AuthError for bad credentials."""
    token = _token(request)
    if token is None:
        return None
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=["HS256"],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise AuthError(f"invalid token: {exc}") from None
    user_id = claims.get("user_id")
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise AuthError("invalid token: user_id claim missing or not an integer")
    return Caller(
        user_id=user_id,
        username=str(claims.get("preferred_username") or ""),
        is_global_staff=claims.get("administrator") is True,
    )


def make_token(settings: Settings, user_id: int, username: str, *, administrator: bool = False, ttl: int = 3600) -> str:
    """A development/test token with the claims Open edX puts in its JWTs."""
    import time

    now = int(time.time())
    claims = {
        "user_id": user_id,
        "preferred_username": username,
        "administrator": administrator,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
