"""Open edX JWT authentication: header (`JWT` or `Bearer`) or the JWT cookie pair."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from fastapi import Request
from starlette.requests import cookie_parser

from readmodels.settings import Settings, public_keys

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
    return token_from(request.headers.get("authorization"), request.headers.getlist("cookie"))


def token_from(authorization: str | None, cookie_headers: Sequence[str]) -> str | None:
    """The request's token from its first Authorization header or its cookies (None: anonymous)."""
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() not in ("jwt", "bearer") or not token.strip():
            raise AuthError("unsupported Authorization header (use 'JWT <token>' or 'Bearer <token>')")
        return token.strip()
    if not cookie_headers:
        return None
    cookies: dict[str, str] = {}
    for header in cookie_headers:  # as Starlette's Request.cookies
        cookies.update(cookie_parser(header))
    payload = cookies.get(COOKIE_HEADER_PAYLOAD)
    signature = cookies.get(COOKIE_SIGNATURE)
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
# gives the exact same error). Only successes are kept; when full, the oldest entry makes room.
_VERIFIED: dict[tuple[str, str, str, str, str], _Verified] = {}
_VERIFIED_MAX = 8192


def authenticate(request: Request, settings: Settings) -> Caller | None:
    """None for an anonymous request; AuthError for bad credentials."""
    token = _token(request)
    if token is None:
        return None
    hit = cached_caller(token, settings)
    if hit is not None:
        return hit
    cache_key = _cache_key(token, settings)
    caller, verified = _verify(token, settings)
    if len(_VERIFIED) >= _VERIFIED_MAX:  # the oldest verified token goes (was: all of them at once)
        del _VERIFIED[next(iter(_VERIFIED))]
    _VERIFIED[cache_key] = verified
    return caller


def cached_caller(token: str, settings: Settings) -> Caller | None:
    """The caller of a token verified before and valid now; None when it must be verified (again)."""
    hit = _VERIFIED.get(_cache_key(token, settings))
    if hit is not None and hit.not_before <= time.time() < hit.expires:
        return hit.caller
    return None


def _cache_key(token: str, settings: Settings) -> tuple[str, str, str, str, str]:
    """Everything verification depends on except the clock (the settings' own strings: their
    hashes are cached, so the key costs a tuple per request)."""
    return (token, settings.jwt_secret, settings.jwt_public_keys, settings.jwt_audience, settings.jwt_issuer)


def _decode(token: str, settings: Settings) -> dict[str, Any]:
    """Verify the signature (HS256 with the secret; RS256 with the configured public keys, the
    token's `kid` choosing among them when it names one) and the issuer, audience and expiry."""
    header = jwt.get_unverified_header(token)

    def decode(key: Any, algorithm: str) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(token, key, algorithms=[algorithm], audience=settings.jwt_audience,
                                            issuer=settings.jwt_issuer, options={"require": ["exp", "iss", "aud"]})
        return claims

    if header.get("alg") != "RS256":  # HS256, or an error naming the algorithm that is not allowed
        return decode(settings.jwt_secret, "HS256")
    keys = public_keys(settings.jwt_public_keys)
    if not keys:
        raise jwt.InvalidAlgorithmError("RS256 tokens are not accepted here (no LP_JWT_PUBLIC_KEYS configured)")
    kid = header.get("kid")
    candidates = [key for key_id, key in keys if kid is None or key_id in (None, kid)]
    if not candidates:
        raise jwt.InvalidKeyError(f"no configured public key has kid {str(kid)[:40]!r}")
    for key in candidates[:-1]:
        try:
            return decode(key, "RS256")
        except jwt.InvalidSignatureError:
            continue  # the next key (keys rotate: old and new are configured together)
    return decode(candidates[-1], "RS256")


def _verify(token: str, settings: Settings) -> tuple[Caller, _Verified]:
    try:
        claims = _decode(token, settings)
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
