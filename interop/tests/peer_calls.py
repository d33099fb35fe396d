"""What a client sees of the FastAPI peer."""

import httpx

from services import Service


def whoami(client: httpx.Client, peer: Service, token: str | None) -> httpx.Response:
    """`GET /whoami`, with the token as `Authorization: Bearer` if there is one."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get(f"{peer.url}/whoami", headers=headers)


def assert_refused(reply: httpx.Response) -> None:
    """A 401 with a Bearer challenge (RFC 6750 §3)."""
    assert reply.status_code == 401, reply.text
    assert reply.headers["www-authenticate"].startswith("Bearer")
