"""RS256 tokens with configured public keys (PEM or an Open edX JWK set), beside HS256."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.requests import Request

from api.auth import AuthError, authenticate, make_token
from readmodels.settings import SettingsError, load_settings

pytestmark = pytest.mark.filterwarnings("ignore:The HMAC key is .* below the minimum")


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY, OTHER = _key(), _key()


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def jwks(*pairs: tuple[str, rsa.RSAPrivateKey]) -> str:
    keys = [{**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(k.public_key())), "kid": kid, "use": "sig"}
            for kid, k in pairs]
    return json.dumps({"keys": keys})


def request(token: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": b"",
                    "headers": [(b"authorization", f"JWT {token}".encode())]})


def rs256(key: rsa.RSAPrivateKey, *, kid: str | None = None, **changes: Any) -> str:
    settings = load_settings()
    now = int(time.time())
    claims = {"user_id": 7, "preferred_username": "rsa7", "administrator": False, "iss": settings.jwt_issuer,
              "aud": settings.jwt_audience, "iat": now, "exp": now + 600, **changes}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid} if kid else None)


def test_rs256_token_verified_with_a_pem_public_key() -> None:
    settings = load_settings(jwt_public_keys=pem(KEY))
    caller = authenticate(request(rs256(KEY)), settings)
    assert caller is not None and caller.user_id == 7 and caller.username == "rsa7"


def test_rs256_token_verified_with_any_of_several_pem_keys_during_a_rotation() -> None:
    settings = load_settings(jwt_public_keys=pem(OTHER) + "\n" + pem(KEY))
    caller = authenticate(request(rs256(KEY, user_id=8)), settings)
    assert caller is not None and caller.user_id == 8


def test_rs256_token_verified_with_an_open_edx_jwk_set_by_kid() -> None:
    settings = load_settings(jwt_public_keys=jwks(("old", OTHER), ("new", KEY)))
    caller = authenticate(request(rs256(KEY, kid="new", user_id=9)), settings)
    assert caller is not None and caller.user_id == 9
    with pytest.raises(AuthError, match="Signature verification failed"):
        authenticate(request(rs256(KEY, kid="old", user_id=10)), settings)
    with pytest.raises(AuthError, match="no configured public key has kid"):
        authenticate(request(rs256(KEY, kid="unknown", user_id=11)), settings)


def test_rs256_token_signed_by_another_key_is_refused() -> None:
    settings = load_settings(jwt_public_keys=pem(KEY))
    with pytest.raises(AuthError, match="Signature verification failed"):
        authenticate(request(rs256(OTHER, user_id=12)), settings)


def test_rs256_token_is_refused_when_no_public_keys_are_configured() -> None:
    with pytest.raises(AuthError, match="no LP_JWT_PUBLIC_KEYS configured"):
        authenticate(request(rs256(KEY, user_id=13)), load_settings())


def test_rs256_token_with_wrong_audience_or_expired_is_refused() -> None:
    settings = load_settings(jwt_public_keys=pem(KEY))
    with pytest.raises(AuthError, match=r"(?i)audience"):
        authenticate(request(rs256(KEY, user_id=14, aud="someone-else")), settings)
    with pytest.raises(AuthError, match="expired"):
        authenticate(request(rs256(KEY, user_id=15, exp=int(time.time()) - 10)), settings)


def test_hs256_token_signed_with_the_public_key_text_is_refused() -> None:
    """The algorithm-confusion attack: an HS256 token whose HMAC key is the public PEM."""
    settings = load_settings(jwt_public_keys=pem(KEY))
    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    now = int(time.time())
    payload = jwt.utils.base64url_encode(json.dumps({"user_id": 1, "iss": settings.jwt_issuer,
                                                     "aud": settings.jwt_audience, "exp": now + 60}).encode())
    signing = header + b"." + payload
    signature = jwt.utils.base64url_encode(hmac.new(pem(KEY).encode(), signing, hashlib.sha256).digest())
    with pytest.raises(AuthError, match="Signature verification failed"):
        authenticate(request((signing + b"." + signature).decode()), settings)


def test_hs256_tokens_still_work_when_public_keys_are_configured() -> None:
    settings = load_settings(jwt_public_keys=pem(KEY))
    caller = authenticate(request(make_token(settings, 16, "hs16")), settings)
    assert caller is not None and caller.user_id == 16


def test_unreadable_public_keys_setting_names_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"LP_JWT_PUBLIC_KEYS: .*not a JWK set or PEM public keys"):
        load_settings(jwt_public_keys="-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----")


def test_a_full_token_cache_drops_its_oldest_entry_not_all(monkeypatch: pytest.MonkeyPatch) -> None:
    from api import auth

    monkeypatch.setattr(auth, "_VERIFIED_MAX", 3)
    monkeypatch.setattr(auth, "_VERIFIED", {})
    settings = load_settings()
    tokens = [make_token(settings, 100 + i, f"u{i}") for i in range(4)]
    for t in tokens:
        authenticate(request(t), settings)
    assert [auth.cached_caller(t, settings) is not None for t in tokens] == [False, True, True, True]
