"""The processes the tests talk to: authbridge and the two peers, each on a
free loopback port, started with a clean environment and stopped by PID."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

INTEROP = Path(__file__).resolve().parents[1]
REPO = INTEROP.parent
PEERS = INTEROP / "peers"

# The HS256 secret every test server and peer shares.
SECRET = "interop-secret-0123456789abcdef-0123456789"

STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def authbridge_bin() -> Path:
    """`AUTHBRIDGE_BIN`, else the debug build in `CARGO_TARGET_DIR` (as the Makefile's)."""
    if explicit := os.environ.get("AUTHBRIDGE_BIN"):
        return Path(explicit)
    target = os.environ.get("CARGO_TARGET_DIR") or Path.home() / ".cache/authbridge/target"
    return Path(target) / "debug" / "authbridge"


def site_root() -> str:
    return os.environ.get("LEPTOS_SITE_ROOT") or str(REPO / "target" / "site")


def base_env() -> dict[str, str]:
    """Only what a process needs to run: no settings (or proxies) leak in from the shell."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    if "HOME" in os.environ:
        env["HOME"] = os.environ["HOME"]
    return env


class Service:
    """One process, ready once `health_url` answers 200, logged to `log_path`."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        port: int,
        log_dir: Path,
        cwd: Path,
    ):
        self.name = name
        self.argv = argv
        self.env = {**base_env(), **env}
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_dir / f"{name}.log"
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, health_path: str = "/healthz") -> "Service":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.argv, env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            self._wait_until_ready(self.url + health_path)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self, health_url: str) -> None:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        with httpx.Client(trust_env=False, timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited at startup:\n{self.log_tail()}")
                try:
                    if client.get(health_url).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready in {STARTUP_TIMEOUT_S} s:\n{self.log_tail()}")

    def __enter__(self) -> "Service":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not end; only our own PID."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT_S)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def running(service: Service) -> Iterator[Service]:
    """For fixtures: starts `service` for their scope, stops it even if a test failed."""
    with service:
        yield service


def authbridge(port: int, log_dir: Path, name: str = "authbridge", **settings: str) -> Service:
    """Our server with an in-memory store; `settings` are extra environment variables."""
    binary = authbridge_bin()
    if not binary.is_file():
        raise RuntimeError(
            f"{binary} is missing: build it first (make build), or set AUTHBRIDGE_BIN"
        )
    env = {
        "AUTHBRIDGE_ENV": "development",
        "AUTHBRIDGE_DATABASE_URL": "mem://",
        "LEPTOS_SITE_ADDR": f"127.0.0.1:{port}",
        "LEPTOS_SITE_ROOT": site_root(),
        "LEPTOS_OUTPUT_NAME": "authbridge",
        "SECRET_KEY": SECRET,
        "RUST_LOG": "warn",
        # Every test registers users from 127.0.0.1: far more than the
        # default limit of new accounts per address allows.
        "AUTHBRIDGE_REGISTER_LIMIT_IP": "1000/1m",
        **settings,
    }
    # In an empty directory: no .env of a developer's is read.
    return Service(name, [str(binary)], env, port, log_dir, cwd=log_dir)


def fastapi_peer(port: int, log_dir: Path, name: str = "fastapi-peer", **settings: str) -> Service:
    """The FastAPI peer under uvicorn, configured as its users would: by environment."""
    env = {"UVICORN_HOST": "127.0.0.1", "UVICORN_PORT": str(port), **settings}
    argv = [sys.executable, "-m", "uvicorn", "fastapi_peer:app", "--log-level", "warning"]
    return Service(name, argv, env, port, log_dir, cwd=PEERS)


def flask_peer(port: int, log_dir: Path, name: str = "flask-peer", **settings: str) -> Service:
    """The Flask peer under `flask run`, configured by environment."""
    env = {"FLASK_RUN_HOST": "127.0.0.1", "FLASK_RUN_PORT": str(port), **settings}
    argv = [sys.executable, "-m", "flask", "--app", "flask_peer", "run"]
    return Service(name, argv, env, port, log_dir, cwd=PEERS)
