"""A Flask app that trusts authbridge's login, through its access cookie.

authbridge and this app are the same site (one host, other ports), so the
browser sends authbridge's `authbridge_access` cookie here too. A
`before_request` hook verifies it with python-jose and the shared
`SECRET_KEY` (HS256); without a valid one the visitor goes to authbridge's
`/login?next=<this page>` and comes back after logging in (authbridge must
list our origin in `AUTHBRIDGE_REDIRECT_ORIGINS`).

Run it (settings from the environment, see `load_settings`):

    SECRET_KEY=... AUTHBRIDGE_URL=http://127.0.0.1:3000 \
        flask --app flask_peer run --host 127.0.0.1 --port 5001
"""

import logging
import os
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, g, redirect, render_template_string, request
from jose import JWTError, jwt

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Flask peer</title></head>
<body>
  <h1>Hello, {{ name }}!</h1>
  <p>This page belongs to another service, which trusts your authbridge login.</p>
  <p><a href="{{ authbridge_url }}/">Back to authbridge</a></p>
</body>
</html>
"""

# Endpoints that need no login.
PUBLIC_ENDPOINTS = {"healthz"}


def load_settings(env: dict[str, str] = os.environ) -> dict[str, Any]:
    """The app's config, from the environment. Raises `ValueError` without a secret.

    - `AUTHBRIDGE_URL`: authbridge's origin. Defaults to `http://127.0.0.1:3000`.
    - `SECRET_KEY`: the HS256 secret shared with authbridge. Required.
    - `PEER_COOKIE_NAME`: the access cookie. Defaults to `authbridge_access`
      (behind HTTPS with the `__Host-` prefix: `__Host-authbridge_access`).
    - `PEER_ISSUER`, `PEER_AUDIENCE`: required `iss`/`aud`. Default to `authbridge`.
    - `PEER_LEEWAY`: seconds of clock skew allowed on `exp`. Defaults to 5.
    - `PEER_LOG_LEVEL`: of the request log. Defaults to `INFO` (every request).
    """
    secret = env.get("SECRET_KEY")
    if not secret:
        raise ValueError("SECRET_KEY must be set (the one authbridge uses)")
    return {
        "AUTHBRIDGE_URL": env.get("AUTHBRIDGE_URL", "http://127.0.0.1:3000").rstrip("/"),
        # Not Flask's own SECRET_KEY: this app keeps no session of its own.
        "AUTHBRIDGE_SECRET": secret,
        "PEER_COOKIE_NAME": env.get("PEER_COOKIE_NAME", "authbridge_access"),
        "PEER_ISSUER": env.get("PEER_ISSUER", "authbridge"),
        "PEER_AUDIENCE": env.get("PEER_AUDIENCE", "authbridge"),
        "PEER_LEEWAY": int(env.get("PEER_LEEWAY", "5")),
        "PEER_LOG_LEVEL": env.get("PEER_LOG_LEVEL", "INFO").upper(),
    }


def create_app(settings: dict[str, Any] | None = None) -> Flask:
    """The app; `flask --app flask_peer run` finds this factory."""
    app = Flask(__name__)
    app.config.from_mapping(settings if settings is not None else load_settings())
    logging.getLogger("werkzeug").setLevel(app.config["PEER_LOG_LEVEL"])

    def login_redirect() -> Response:
        # request.url is this page as the browser asked for it; authbridge
        # only sends the visitor back if its origin is a configured peer.
        query = urlencode({"next": request.url})
        return redirect(f"{app.config['AUTHBRIDGE_URL']}/login?{query}")

    @app.before_request
    def require_login() -> Response | None:
        if request.endpoint in PUBLIC_ENDPOINTS:
            return None
        token = request.cookies.get(app.config["PEER_COOKIE_NAME"])
        if not token:
            return login_redirect()
        try:
            g.claims = jwt.decode(
                token,
                app.config["AUTHBRIDGE_SECRET"],
                algorithms=["HS256"],
                audience=app.config["PEER_AUDIENCE"],
                issuer=app.config["PEER_ISSUER"],
                options={
                    "leeway": app.config["PEER_LEEWAY"],
                    "require_exp": True,
                    "require_iat": True,
                    "require_sub": True,
                    "require_iss": True,
                    "require_aud": True,
                },
            )
        except JWTError:
            return login_redirect()
        return None

    @app.after_request
    def private(response: Response) -> Response:
        # The answer depends on who asks: no shared or stale copies.
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    @app.get("/")
    def index() -> str:
        return render_template_string(
            PAGE, name=g.claims.get("name", ""), authbridge_url=app.config["AUTHBRIDGE_URL"]
        )

    return app
