"""The Flask peer: authbridge's access cookie (sent by the browser to the same
host on another port) gets a greeting; anything else goes to our login page
with `next` pointing back, and comes back after logging in."""

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

import services
import tokens
from services import SECRET, Service

ACCESS_COOKIE = "authbridge_access"


def with_cookie(name: str, token: str) -> dict[str, str]:
    """Request headers carrying one cookie, as a browser sends it."""
    return {"Cookie": f"{name}={token}"}


def assert_sent_to_login(reply: httpx.Response, authbridge: Service, back_to: str) -> str:
    """Checks the redirect to our `/login?next=<back_to>`; returns its URL."""
    assert reply.status_code in (302, 303), reply.text
    location = urlsplit(reply.headers["location"])
    assert f"{location.scheme}://{location.netloc}" == authbridge.url
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": [back_to]}
    return reply.headers["location"]


def test_a_logged_in_visitor_is_greeted_by_name(
    client: httpx.Client, authbridge: Service, flask_app: Service
) -> None:
    user = tokens.register(client, authbridge.url)

    # The same cookie jar, as a browser's: the cookie of 127.0.0.1 goes to
    # every port of it.
    page = client.get(f"{flask_app.url}/")

    assert page.status_code == 200, page.text
    assert f"<h1>Hello, {user.name}!</h1>" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_a_visitor_without_the_cookie_is_sent_to_our_login_with_next_back(
    client: httpx.Client, authbridge: Service, flask_app: Service
) -> None:
    page = client.get(f"{flask_app.url}/?tab=reports")

    assert_sent_to_login(page, authbridge, back_to=f"{flask_app.url}/?tab=reports")


FORGERIES: dict[str, Callable[[str], str]] = {
    "tampered_payload": lambda t: tokens.with_claims(t, name="admin"),
    "signed_with_another_secret": lambda t: tokens.resigned(t, "not-" + SECRET, "HS256"),
    "alg_none": tokens.alg_none,
    "expired": lambda t: tokens.expired(t, SECRET, "HS256"),
    "wrong_issuer": lambda t: tokens.resigned(t, SECRET, "HS256", iss="elsewhere"),
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_forged_cookie_is_sent_to_login(
    client: httpx.Client, authbridge: Service, flask_app: Service, forge: Callable[[str], str]
) -> None:
    tokens.register(client, authbridge.url)
    genuine = client.cookies[ACCESS_COOKIE]
    client.cookies.clear()

    page = client.get(f"{flask_app.url}/", headers=with_cookie(ACCESS_COOKIE, forge(genuine)))

    assert_sent_to_login(page, authbridge, back_to=f"{flask_app.url}/")


def test_logging_in_from_the_redirect_returns_to_the_flask_page(
    client: httpx.Client, authbridge: Service, flask_app: Service
) -> None:
    with httpx.Client(trust_env=False) as elsewhere:
        user = tokens.register(elsewhere, authbridge.url)
    login_url = assert_sent_to_login(
        client.get(f"{flask_app.url}/"), authbridge, f"{flask_app.url}/"
    )

    form = client.get(login_url)
    assert form.status_code == 200
    assert re.search(r'name="next" value="http://127\.0\.0\.1:\d+/"', form.text)
    # The form as a browser without JavaScript sends it.
    sent = client.post(
        f"{authbridge.url}/auth/login",
        data={"username": user.name, "password": user.password, "next": f"{flask_app.url}/"},
        headers={
            "Accept": "text/html",
            "Origin": authbridge.url,
            "Referer": login_url,
            "Sec-Fetch-Site": "same-origin",
        },
    )

    assert sent.status_code in (302, 303), sent.text
    assert sent.headers["location"] == f"{flask_app.url}/"
    page = client.get(sent.headers["location"])
    assert f"Hello, {user.name}!" in page.text
    # Logged in now, the login link leads straight back too.
    assert client.get(login_url).headers["location"] == f"{flask_app.url}/"


def test_our_login_sends_nobody_back_to_an_origin_it_does_not_know(
    client: httpx.Client, authbridge: Service
) -> None:
    tokens.register(client, authbridge.url)
    stranger = f"http://127.0.0.1:{services.free_port()}/"

    reply = client.get(f"{authbridge.url}/login", params={"next": stranger})

    assert reply.status_code in (302, 303)
    assert reply.headers["location"] == "/"


def test_the_cookie_name_comes_from_the_config(
    client: httpx.Client, authbridge: Service, logs: Path
) -> None:
    tokens.register(client, authbridge.url)
    token = client.cookies[ACCESS_COOKIE]
    secure_name = "__Host-authbridge_access"
    peer = services.flask_peer(
        services.free_port(),
        logs,
        name="flask-host-cookie",
        AUTHBRIDGE_URL=authbridge.url,
        SECRET_KEY=SECRET,
        PEER_COOKIE_NAME=secure_name,
    )

    with peer, httpx.Client(trust_env=False) as bare:
        under_old_name = bare.get(f"{peer.url}/", headers=with_cookie(ACCESS_COOKIE, token))
        under_new_name = bare.get(f"{peer.url}/", headers=with_cookie(secure_name, token))

    assert_sent_to_login(under_old_name, authbridge, back_to=f"{peer.url}/")
    assert under_new_name.status_code == 200
    assert "Hello," in under_new_name.text
