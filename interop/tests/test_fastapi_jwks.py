"""The FastAPI peer with authbridge's public keys (`AUTHBRIDGE_JWT_KEYS`),
found through the JWKS by each token's `kid`; and a key rotation."""

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

import services
import tokens
from peer_calls import assert_refused, whoami
from services import SECRET, Service, running

ALGORITHM = {"eddsa": "EdDSA", "es256": "ES256"}


def keygen(kind: str, path: Path) -> Path:
    """A new private key from `authbridge keygen`, as an operator makes one."""
    subprocess.run(
        [str(services.authbridge_bin()), "keygen", kind, "--out", str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return path


def load_key(path: Path) -> Any:
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def jwks_kids(client: httpx.Client, server: Service) -> list[str]:
    reply = client.get(f"{server.url}/.well-known/jwks.json")
    assert reply.status_code == 200
    return [key["kid"] for key in reply.json()["keys"]]


@pytest.fixture(scope="module", params=ALGORITHM.keys())
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def keys(kind: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The server's signing key, and a key of the same kind it never heard of."""
    folder = tmp_path_factory.mktemp(f"keys-{kind}")
    return {
        "signing": keygen(kind, folder / "signing.pem"),
        "outsider": keygen(kind, folder / "outsider.pem"),
    }


@pytest.fixture(scope="module")
def keyed_authbridge(logs: Path, kind: str, keys: dict[str, Path]) -> Iterator[Service]:
    yield from running(
        services.authbridge(
            services.free_port(),
            logs,
            name=f"authbridge-{kind}",
            AUTHBRIDGE_JWT_KEYS=str(keys["signing"]),
        )
    )


@pytest.fixture(scope="module")
def fastapi_jwks(logs: Path, kind: str, keyed_authbridge: Service) -> Iterator[Service]:
    """No SECRET_KEY here: this peer holds nothing that can sign."""
    yield from running(
        services.fastapi_peer(
            services.free_port(),
            logs,
            name=f"fastapi-jwks-{kind}",
            AUTHBRIDGE_URL=keyed_authbridge.url,
            PEER_VERIFY="jwks",
        )
    )


def test_a_token_is_verified_with_the_key_the_jwks_lists_under_its_kid(
    client: httpx.Client,
    kind: str,
    keys: dict[str, Path],
    keyed_authbridge: Service,
    fastapi_jwks: Service,
) -> None:
    token = tokens.access_token(client, keyed_authbridge.url)

    reply = whoami(client, fastapi_jwks, token)

    assert reply.status_code == 200, reply.text
    assert reply.json()["verified_with"] == "jwks"
    own_kid = tokens.thumbprint(tokens.public_jwk(load_key(keys["signing"])))
    assert tokens.header(token) == {"alg": ALGORITHM[kind], "kid": own_kid, "typ": "JWT"}
    assert jwks_kids(client, keyed_authbridge) == [own_kid]
    discovery = client.get(f"{keyed_authbridge.url}/.well-known/openid-configuration").json()
    assert discovery["jwks_uri"] == f"{keyed_authbridge.url}/.well-known/jwks.json"
    assert discovery["issuer"] == tokens.claims(token)["iss"]


def public_pem(path: Path) -> bytes:
    return (
        load_key(path)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


# Each gets the genuine token, its algorithm and the key files.
Forge = Callable[[str, str, dict[str, Path]], str]
FORGERIES: dict[str, Forge] = {
    "tampered_payload": lambda t, alg, keys: tokens.with_claims(t, name="admin"),
    "truncated_signature": lambda t, alg, keys: tokens.truncated_signature(t),
    "alg_none": lambda t, alg, keys: tokens.alg_none(t),
    "hs256_with_the_shared_secret": lambda t, alg, keys: tokens.resigned(t, SECRET, "HS256"),
    "hs256_with_the_public_key_as_secret": lambda t, alg, keys: tokens.hmac_signed(
        t, public_pem(keys["signing"]), {"kid": tokens.header(t)["kid"]}
    ),
    "other_key_under_the_known_kid": lambda t, alg, keys: tokens.resigned(
        t, load_key(keys["outsider"]), alg, headers={"kid": tokens.header(t)["kid"]}
    ),
    "other_key_under_an_unknown_kid": lambda t, alg, keys: tokens.resigned(
        t, load_key(keys["outsider"]), alg, headers={"kid": "made-up"}
    ),
    "expired": lambda t, alg, keys: tokens.expired(
        t, load_key(keys["signing"]), alg, headers={"kid": tokens.header(t)["kid"]}
    ),
    "wrong_audience": lambda t, alg, keys: tokens.resigned(
        t, load_key(keys["signing"]), alg, headers={"kid": tokens.header(t)["kid"]}, aud="x"
    ),
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_forged_token_is_refused(
    client: httpx.Client,
    kind: str,
    keys: dict[str, Path],
    keyed_authbridge: Service,
    fastapi_jwks: Service,
    forge: Forge,
) -> None:
    genuine = tokens.access_token(client, keyed_authbridge.url)
    assert whoami(client, fastapi_jwks, genuine).status_code == 200

    forged = forge(genuine, ALGORITHM[kind], keys)

    assert_refused(whoami(client, fastapi_jwks, forged))
    me = client.get(f"{keyed_authbridge.url}/api/me", headers={"Authorization": f"Bearer {forged}"})
    assert me.status_code == 401


def test_after_a_key_rotation_old_tokens_verify_and_new_ones_carry_the_new_kid(
    client: httpx.Client, logs: Path, tmp_path: Path
) -> None:
    key_a = keygen("eddsa", tmp_path / "a.pem")
    key_b = keygen("eddsa", tmp_path / "b.pem")
    kid_a = tokens.thumbprint(tokens.public_jwk(load_key(key_a)))
    kid_b = tokens.thumbprint(tokens.public_jwk(load_key(key_b)))
    port = services.free_port()
    # No cooldown: PyJWT's default waits 30 s after a fetch before a new
    # `kid` may trigger the next one (see interop/README.md, "Rotating keys").
    peer = services.fastapi_peer(
        services.free_port(),
        logs,
        name="fastapi-rotation",
        AUTHBRIDGE_URL=f"http://127.0.0.1:{port}",
        PEER_VERIFY="jwks",
        PEER_JWKS_COOLDOWN="0",
    )

    with peer:
        with services.authbridge(port, logs, "authbridge-key-a", AUTHBRIDGE_JWT_KEYS=str(key_a)):
            t1 = tokens.access_token(client, f"http://127.0.0.1:{port}", "rot")
            assert tokens.header(t1)["kid"] == kid_a
            assert whoami(client, peer, t1).status_code == 200

        client.cookies.clear()
        rotated = services.authbridge(
            port, logs, "authbridge-keys-a-b", AUTHBRIDGE_JWT_KEYS=f"{key_a},{key_b}"
        )
        with rotated:
            assert sorted(jwks_kids(client, rotated)) == sorted([kid_a, kid_b])
            t2 = tokens.access_token(client, rotated.url, "rot")

            assert tokens.header(t2)["kid"] == kid_b
            assert whoami(client, peer, t1).status_code == 200
            assert whoami(client, peer, t2).status_code == 200
            assert whoami(client, peer, t2).json()["sub"] == tokens.claims(t2)["sub"]


def test_a_peer_that_cannot_fetch_the_key_set_answers_503_not_401(
    client: httpx.Client, logs: Path, tmp_path: Path
) -> None:
    key = load_key(keygen("eddsa", tmp_path / "k.pem"))
    token = jwt.encode({"sub": "someone"}, key, algorithm="EdDSA", headers={"kid": "k"})
    nobody_there = services.free_port()
    peer = services.fastapi_peer(
        services.free_port(),
        logs,
        name="fastapi-no-jwks",
        AUTHBRIDGE_URL=f"http://127.0.0.1:{nobody_there}",
        PEER_VERIFY="jwks",
    )

    with peer:
        reply = whoami(client, peer, token)

    # The token may be fine: the client should retry, not log in again.
    assert reply.status_code == 503, reply.text
