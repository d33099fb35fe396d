"""Fixtures: authbridge and the peers as real processes on loopback ports.

Each fixture starts its process, waits until it answers, and stops it by
PID at the end of its scope, whatever the tests did."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import services
from services import SECRET, Service, running


@pytest.fixture(scope="session")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the processes write their output (shown when one fails to start)."""
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def flask_port() -> int:
    """Picked before both: authbridge must know the Flask origin, Flask authbridge's URL."""
    return services.free_port()


@pytest.fixture(scope="session")
def authbridge(logs: Path, flask_port: int) -> Iterator[Service]:
    """HS256 with the shared SECRET, default lifetimes; may send users back to Flask."""
    yield from running(
        services.authbridge(
            services.free_port(),
            logs,
            AUTHBRIDGE_REDIRECT_ORIGINS=f"http://127.0.0.1:{flask_port}",
        )
    )


@pytest.fixture(scope="session")
def short_lived_authbridge(logs: Path) -> Iterator[Service]:
    """The same secret, but access tokens live 2 s."""
    yield from running(
        services.authbridge(
            services.free_port(),
            logs,
            name="authbridge-short",
            AUTHBRIDGE_ACCESS_TTL="2s",
            AUTHBRIDGE_JWT_LEEWAY="0s",
        )
    )


@pytest.fixture(scope="session")
def fastapi_hs256(logs: Path, authbridge: Service) -> Iterator[Service]:
    """The FastAPI peer verifying with the shared secret (1 s of leeway)."""
    yield from running(
        services.fastapi_peer(
            services.free_port(),
            logs,
            AUTHBRIDGE_URL=authbridge.url,
            PEER_VERIFY="hs256",
            SECRET_KEY=SECRET,
            PEER_LEEWAY="1",
        )
    )


@pytest.fixture(scope="session")
def flask_app(logs: Path, flask_port: int, authbridge: Service) -> Iterator[Service]:
    """The Flask peer reading authbridge's access cookie."""
    yield from running(
        services.flask_peer(
            flask_port, logs, AUTHBRIDGE_URL=authbridge.url, SECRET_KEY=SECRET, PEER_LEEWAY="1"
        )
    )


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """A client with its own cookie jar, no proxies, redirects not followed."""
    with httpx.Client(trust_env=False, timeout=10.0, follow_redirects=False) as client:
        yield client
