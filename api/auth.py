"""Open edX JWT authentication: header (`JWT` or `Bearer`) or the JWT cookie pair."""

from __future__ import annotations

import time
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


@dataclass(frozen=True, slots=True)
class _Verified:
    caller: Caller
    not_before: float  # iat/nbf (0: neither claim)
    expires: int


# Verified tokens, so a client's repeated token costs a dict lookup instead of an HMAC and two JSON
# parses. Keyed by everything verification depends on except the clock; the time claims are
# checked again on every use (a token that expires or is not yet valid takes the full path, which
# gives the exact same error). Only successes are kept; bounded by clearing when full.
_VERIFIED: dict[tuple[str, str, str, str], _Verified] = {}
_VERIFIED_MAX = 8192


def authenticate(request: Request, settings: Settings) -> Caller | None:
    """None for an anonymous request; AuthError for bad credentials."""
    token = _token(request)
    if token is None:
        return None
    cache_key = (token, settings.jwt_secret, settings.jwt_audience, settings.jwt_issuer)
    hit = _VERIFIED.get(cache_key)
    if hit is not None:
        now = time.time()
        if hit.not_before <= now < hit.expires:
            return hit.caller
    caller, verified = _verify(token, settings)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[cache_key] = verified
    return caller


def _verify(token: str, settings: Settings) -> tuple[Caller, _Verified]:
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
    caller = Caller(
        user_id=user_id,
        username=str(claims.get("preferred_username") or ""),
        is_global_staff=claims.get("administrator") is True,
    )
    not_before = max(int(claims.get("iat", 0)), int(claims.get("nbf", 0)))
    return caller, _Verified(caller, not_before, int(claims["exp"]))


def make_token(settings: Settings, user_id: int, username: str, *, administrator: bool = False, ttl: int = 3600) -> str:
    """A development/test token with the claims Open edX puts in its JWTs."""
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
