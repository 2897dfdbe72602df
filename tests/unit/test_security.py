"""Security rules that need no services: every kind of bad JWT is refused (AuthError, answered
401), claims are read strictly, and the key checks refuse what could act as a Redis pattern."""

from __future__ import annotations

import base64
import time
from typing import Any

import jwt
import orjson
import pytest
from starlette.requests import Request

from api.auth import COOKIE_HEADER_PAYLOAD, COOKIE_SIGNATURE, AuthError, authenticate, make_token
from api.errors import ApiError
from api.path_keys import parse_course_key, parse_usage_key
from readmodels.settings import load_settings

pytestmark = pytest.mark.filterwarnings("ignore:The HMAC key is .* below the minimum")

SETTINGS = load_settings()
OTHER_SECRET = "another-secret-of-enough-length-for-hs256"


def request(authorization: str | None = None, cookies: dict[str, str] | None = None) -> Request:
    headers: list[tuple[bytes, bytes]] = []
    if authorization is not None:
        headers.append((b"authorization", authorization.encode()))
    if cookies:
        headers.append((b"cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()))
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""})


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "user_id": 42,
        "preferred_username": "learner42",
        "administrator": False,
        "iss": SETTINGS.jwt_issuer,
        "aud": SETTINGS.jwt_audience,
        "iat": now,
        "exp": now + 600,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()


def signed(secret: str = SETTINGS.jwt_secret, algorithm: str = "HS256", **changes: Any) -> str:
    return jwt.encode(claims(**changes), secret, algorithm=algorithm)


def tampered() -> str:
    """A valid token whose payload was swapped for another user's, keeping the old signature."""
    head, _, sig = signed().split(".")
    return f"{head}.{_b64(claims(user_id=1, administrator=True))}.{sig}"


def alg_none() -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims(administrator=True))}."


BAD_TOKENS = {
    "wrong signature (other secret)": lambda: signed(OTHER_SECRET),
    "tampered payload": tampered,
    "alg none": alg_none,
    "alg none, signature kept": lambda: alg_none() + signed().split(".")[2],
    "HS512 with the right secret": lambda: signed(algorithm="HS512"),
    "expired": lambda: signed(exp=int(time.time()) - 10),
    "not valid yet": lambda: signed(nbf=int(time.time()) + 600),
    "wrong issuer": lambda: signed(iss="https://evil.example/oauth2"),
    "wrong audience": lambda: signed(aud="another-client"),
    "no expiry": lambda: signed(exp=None),
    "no issuer": lambda: signed(iss=None),
    "no audience": lambda: signed(aud=None),
    "user_id missing": lambda: signed(user_id=None),
    "user_id as text": lambda: signed(user_id="42"),
    "user_id as boolean": lambda: signed(user_id=True),
    "not a JWT": lambda: "not.a.token",
    "empty segments": lambda: "..",
}


@pytest.mark.parametrize("name", list(BAD_TOKENS))
@pytest.mark.parametrize("scheme", ["JWT", "Bearer"])
def test_authenticate_bad_token_in_header_is_refused(name: str, scheme: str) -> None:
    with pytest.raises(AuthError):
        authenticate(request(f"{scheme} {BAD_TOKENS[name]()}"), SETTINGS)


@pytest.mark.parametrize("name", list(BAD_TOKENS))
def test_authenticate_bad_token_in_cookie_pair_is_refused(name: str) -> None:
    head, _, rest = BAD_TOKENS[name]().partition(".")
    payload, _, signature = rest.partition(".")
    cookies = {COOKIE_HEADER_PAYLOAD: f"{head}.{payload}", COOKIE_SIGNATURE: signature or "x"}
    with pytest.raises(AuthError):
        authenticate(request(cookies=cookies), SETTINGS)


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "JWT", "JWT   ", "Token abc", "jwt"])
def test_authenticate_unsupported_authorization_header_is_refused(header: str) -> None:
    with pytest.raises(AuthError):
        authenticate(request(header), SETTINGS)


def test_authenticate_good_token_and_strict_administrator_claim() -> None:
    caller = authenticate(request(f"JWT {make_token(SETTINGS, 42, 'learner42')}"), SETTINGS)
    assert caller is not None and (caller.user_id, caller.is_global_staff) == (42, False)
    admin = authenticate(request(f"Bearer {signed(administrator=True)}"), SETTINGS)
    assert admin is not None and admin.is_global_staff
    for not_true in ("true", 1, "yes", None):  # only the JSON boolean true makes global staff
        caller = authenticate(request(f"JWT {signed(administrator=not_true)}"), SETTINGS)
        assert caller is not None and caller.is_global_staff is False, not_true
    assert authenticate(request(), SETTINGS) is None  # anonymous


PATTERN_KEYS = [
    "course-v1:edX+*+X",
    "course-v1:edX+Demo?+X",
    "course-v1:edX+[a-z]+X",
    "course-v1:edX+Demo]+X",
    "course-v1:edX+Demo\n+X",
    "course-v1:edX+Demo\r\n+X",
    "course-v1:edX+..+X",
    "edX/../X",
    "course-v1:edX+Demo\\*+X",
    "course-v1:edX+Demo\x00+X",
    "course-v1:edX+" + "a" * 5000 + "+X",
    "*",
]


@pytest.mark.parametrize("raw", PATTERN_KEYS)
def test_pattern_like_course_and_usage_keys_are_refused_before_any_lookup(raw: str) -> None:
    with pytest.raises(ApiError) as course:
        parse_course_key(raw)
    assert course.value.status_code == 400 and len(course.value.message) < 300
    usage = raw.replace("course-v1:", "block-v1:") + "+type@sequential+block@s1"
    with pytest.raises(ApiError) as block:
        parse_usage_key(usage)
    assert block.value.status_code == 404 and len(block.value.message) < 300


@pytest.mark.parametrize("raw", ["i4x://edX/DemoX/sequential/abc", "i4x://edX/DemoX/vertical/u1"])
def test_usage_keys_that_name_no_course_run_are_404_not_an_error(raw: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_usage_key(raw)
    assert caught.value.status_code == 404
