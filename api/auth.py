"""Open edX JWT authentication: header (`JWT` or `Bearer`) or the JWT cookie pair."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt
from fastapi import Request

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
    cache_key = (token, settings.jwt_secret + settings.jwt_public_keys, settings.jwt_audience, settings.jwt_issuer)
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
