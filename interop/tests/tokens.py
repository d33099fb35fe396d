"""Real tokens from authbridge, and the forgeries a peer must refuse."""

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

PASSWORD = "correct horse battery"


def unique_name(prefix: str) -> str:
    """A username no other test uses (3-32 of letters, digits, `_.-`)."""
    return f"{prefix}_{secrets.token_hex(6)}"


@dataclass
class User:
    name: str
    password: str


def register(client: httpx.Client, base_url: str, prefix: str = "peer") -> User:
    """Registers through the form's endpoint, as the hydrated page does; the
    client's cookie jar then holds the session cookies, as a browser would."""
    user = User(unique_name(prefix), PASSWORD)
    reply = client.post(
        f"{base_url}/auth/register",
        data={"username": user.name, "password": user.password},
        # As our own page sends it (the server refuses posts of unknown provenance).
        headers={"Accept": "application/json", "Sec-Fetch-Site": "same-origin"},
    )
    assert reply.status_code == 200, reply.text
    return user


def password_grant(client: httpx.Client, base_url: str, user: User) -> dict[str, Any]:
    """`POST /api/token` as FastAPI's OAuth2PasswordRequestForm is filled in,
    by a client that holds no browser cookies (as an API client does)."""
    del client
    reply = httpx.post(
        f"{base_url}/api/token",
        data={"grant_type": "password", "username": user.name, "password": user.password},
        trust_env=False,
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["token_type"] == "bearer"
    return body


def access_token(client: httpx.Client, base_url: str, prefix: str = "peer") -> str:
    """A fresh user's access token from the password grant."""
    return password_grant(client, base_url, register(client, base_url, prefix))["access_token"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _segment(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def header(token: str) -> dict[str, Any]:
    return jwt.get_unverified_header(token)


def claims(token: str) -> dict[str, Any]:
    """The payload, unverified: for looking at a token, never for trusting it."""
    return json.loads(_unb64(token.split(".")[1]))


def with_claims(token: str, **changes: Any) -> str:
    """The same header and signature over a changed payload."""
    head, _, signature = token.split(".")
    return ".".join([head, _segment({**claims(token), **changes}), signature])


def truncated_signature(token: str) -> str:
    return token[:-6]


def alg_none(token: str) -> str:
    """The real claims, unsigned, claiming `alg: none` (RFC 7519 §6)."""
    return ".".join([_segment({"alg": "none", "typ": "JWT"}), token.split(".")[1], ""])


def resigned(
    token: str, key: Any, algorithm: str, headers: dict[str, Any] | None = None, **changes: Any
) -> str:
    """The real claims (with `changes`; a value of None drops the claim) signed
    anew with `key`."""
    payload = {**claims(token), **changes}
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, key, algorithm=algorithm, headers=headers)


def expired(token: str, key: Any, algorithm: str, headers: dict[str, Any] | None = None) -> str:
    """Signed with the right key, but its life ended a minute ago."""
    now = int(time.time())
    return resigned(token, key, algorithm, headers, iat=now - 120, exp=now - 60)


def hmac_signed(token: str, secret: bytes, headers: dict[str, Any]) -> str:
    """The real claims under HS256 with an arbitrary byte string as the secret,
    signed by hand: PyJWT itself refuses to use a public key as an HMAC secret."""
    signing_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT', **headers})}.{token.split('.')[1]}"
    digest = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(digest)}"


def thumbprint(public_jwk: dict[str, str]) -> str:
    """The RFC 7638 thumbprint of a public JWK: SHA-256 over its required
    members, sorted, without whitespace."""
    required = {"OKP": ["crv", "kty", "x"], "EC": ["crv", "kty", "x", "y"]}[public_jwk["kty"]]
    canonical = json.dumps(
        {k: public_jwk[k] for k in required}, separators=(",", ":"), sort_keys=True
    )
    return _b64(hashlib.sha256(canonical.encode()).digest())


def public_jwk(private_key: Any) -> dict[str, str]:
    """The public JWK of an Ed25519 or P-256 private key, computed here (not
    read from the server)."""
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return OKPAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    return ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
