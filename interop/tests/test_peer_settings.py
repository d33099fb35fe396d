"""Both peers refuse to start on a setting that cannot work, saying which."""

import subprocess
import sys

import pytest

from services import PEERS, SECRET, base_env

UVICORN = [sys.executable, "-m", "uvicorn", "fastapi_peer:app"]
FLASK = [sys.executable, "-m", "flask", "--app", "flask_peer", "run"]
UNWORKABLE = {
    "fastapi_hs256_without_secret": (UVICORN, {"PEER_VERIFY": "hs256"}, "SECRET_KEY"),
    "fastapi_jwks_with_a_symmetric_algorithm": (
        UVICORN,
        {"PEER_VERIFY": "jwks", "PEER_ALGORITHMS": "EdDSA,HS256"},
        "PEER_ALGORITHMS",
    ),
    "fastapi_unknown_mode": (UVICORN, {"PEER_VERIFY": "none", "SECRET_KEY": SECRET}, "PEER_VERIFY"),
    "flask_without_secret": (FLASK, {}, "SECRET_KEY"),
}


@pytest.mark.parametrize(("argv", "settings", "named"), UNWORKABLE.values(), ids=UNWORKABLE.keys())
def test_a_peer_refuses_to_start_with_settings_that_cannot_work(
    argv: list[str], settings: dict[str, str], named: str
) -> None:
    env = {**base_env(), "UVICORN_PORT": "0", "FLASK_RUN_PORT": "0", **settings}

    done = subprocess.run(argv, env=env, cwd=PEERS, capture_output=True, text=True, timeout=30)

    assert done.returncode != 0
    assert named in done.stderr
