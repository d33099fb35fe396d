"""The FastAPI peer with the shared secret: tokens from our `/api/token` get in,
forgeries do not."""

import time
import warnings
from collections.abc import Callable

import httpx
import jwt
import pytest

import tokens
from peer_calls import assert_refused, whoami
from services import SECRET, Service


def test_a_token_from_the_token_endpoint_is_accepted(
    client: httpx.Client, authbridge: Service, fastapi_hs256: Service
) -> None:
    user = tokens.register(client, authbridge.url)
    token = tokens.password_grant(client, authbridge.url, user)["access_token"]

    reply = whoami(client, fastapi_hs256, token)

    assert reply.status_code == 200, reply.text
    me = client.get(f"{authbridge.url}/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert reply.json()["sub"] == me.json()["id"]
    assert reply.json()["name"] == me.json()["username"] == user.name
    assert reply.json()["verified_with"] == "hs256"


def test_a_request_without_a_token_gets_the_bearer_challenge(
    client: httpx.Client, fastapi_hs256: Service
) -> None:
    assert_refused(whoami(client, fastapi_hs256, None))


def hs512_with_the_shared_secret(token: str) -> str:
    """The right secret under an algorithm the peer was not told to accept."""
    with warnings.catch_warnings():
        # PyJWT wants 64 bytes for HS512; the point here is the same secret.
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return tokens.resigned(token, SECRET, "HS512")


FORGERIES: dict[str, Callable[[str], str]] = {
    "tampered_payload": lambda t: tokens.with_claims(t, name="admin"),
    "tampered_subject": lambda t: tokens.with_claims(t, sub="someone-else"),
    "truncated_signature": tokens.truncated_signature,
    "signed_with_another_secret": lambda t: tokens.resigned(t, "not-" + SECRET, "HS256"),
    "alg_none": tokens.alg_none,
    "hs512_with_the_shared_secret": hs512_with_the_shared_secret,
    "wrong_issuer": lambda t: tokens.resigned(t, SECRET, "HS256", iss="elsewhere"),
    "wrong_audience": lambda t: tokens.resigned(t, SECRET, "HS256", aud="another-service"),
    "expired": lambda t: tokens.expired(t, SECRET, "HS256"),
    "without_exp": lambda t: tokens.resigned(t, SECRET, "HS256", exp=None),
    "not_a_jwt": lambda t: "not-a-jwt",
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_forged_token_is_refused(
    client: httpx.Client,
    authbridge: Service,
    fastapi_hs256: Service,
    forge: Callable[[str], str],
) -> None:
    genuine = tokens.access_token(client, authbridge.url)
    assert whoami(client, fastapi_hs256, genuine).status_code == 200

    reply = whoami(client, fastapi_hs256, forge(genuine))

    assert_refused(reply)
    assert 'error="invalid_token"' in reply.headers["www-authenticate"]


def test_a_token_stops_working_at_the_peer_when_it_expires(
    client: httpx.Client, short_lived_authbridge: Service, fastapi_hs256: Service
) -> None:
    token = tokens.access_token(client, short_lived_authbridge.url, "short")
    assert whoami(client, fastapi_hs256, token).status_code == 200

    # The peer allows 1 s of leeway past exp (whole seconds).
    time.sleep(max(0.0, tokens.claims(token)["exp"] + 2 - time.time()))

    assert_refused(whoami(client, fastapi_hs256, token))


def test_a_refreshed_token_is_accepted_and_logout_ends_the_session(
    client: httpx.Client, authbridge: Service, fastapi_hs256: Service
) -> None:
    user = tokens.register(client, authbridge.url)
    first = tokens.password_grant(client, authbridge.url, user)

    # An API client: no browser cookies (those would make it a browser post).
    renewed = httpx.post(
        f"{authbridge.url}/api/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        trust_env=False,
    )
    assert renewed.status_code == 200, renewed.text
    second = renewed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (
        tokens.claims(second["access_token"])["jti"] != tokens.claims(first["access_token"])["jti"]
    )
    assert whoami(client, fastapi_hs256, second["access_token"]).json()["name"] == user.name

    logout = httpx.post(
        f"{authbridge.url}/api/logout",
        data={"refresh_token": second["refresh_token"]},
        trust_env=False,
    )
    assert logout.status_code == 204
    again = httpx.post(
        f"{authbridge.url}/api/token",
        data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
        trust_env=False,
    )
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    me = client.get(
        f"{authbridge.url}/api/me", headers={"Authorization": f"Bearer {second['access_token']}"}
    )
    assert me.status_code == 401
    # A peer that only verifies the JWT keeps accepting it until it expires:
    # the bound the README states (access TTL + leeway).
    assert whoami(client, fastapi_hs256, second["access_token"]).status_code == 200
