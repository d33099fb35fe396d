"""A FastAPI service that trusts the access tokens of authbridge.

Clients get a token from authbridge's `POST /api/token` (the form FastAPI's
`OAuth2PasswordRequestForm` sends) and call us with `Authorization: Bearer`.
We verify the JWT ourselves with PyJWT, either with the shared `SECRET_KEY`
(HS256) or with authbridge's public keys (EdDSA/ES256 via its JWKS).

Run it (settings from the environment, see `Settings.from_env`):

    SECRET_KEY=... AUTHBRIDGE_URL=http://127.0.0.1:3000 \
        uvicorn fastapi_peer:app --host 127.0.0.1 --port 8001
"""

import os
from dataclasses import dataclass, field
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import OAuth2PasswordBearer

# Claims a token must carry; PyJWT then also checks exp, iss and aud.
REQUIRED_CLAIMS = ["exp", "iat", "sub", "iss", "aud"]

# Algorithms a JWKS key may use here. Symmetric ones never: anyone who can
# read the key set could then sign.
ASYMMETRIC_ALGORITHMS = {"EdDSA", "ES256"}


@dataclass(frozen=True)
class Settings:
    """How this peer verifies tokens, read once at startup."""

    authbridge_url: str
    verify: str
    # Left out of repr: settings get printed, secrets must not be.
    secret_key: str | None = field(repr=False)
    jwks_url: str
    algorithms: list[str]
    issuer: str
    audience: str
    leeway: float
    jwks_cooldown: float

    @classmethod
    def from_env(cls, env: dict[str, str] = os.environ) -> "Settings":
        """Reads the settings; raises `ValueError` for a setting that cannot work.

        - `AUTHBRIDGE_URL`: authbridge's origin. Defaults to `http://127.0.0.1:3000`.
        - `PEER_VERIFY`: `hs256` (with `SECRET_KEY`) or `jwks`. Defaults to `hs256`.
        - `SECRET_KEY`: the HS256 secret shared with authbridge (`hs256` only).
        - `PEER_JWKS_URL`: the key set (`jwks` only). Defaults to
          `$AUTHBRIDGE_URL/.well-known/jwks.json`.
        - `PEER_ALGORITHMS`: comma-separated, `jwks` only. Defaults to `EdDSA,ES256`.
        - `PEER_ISSUER`, `PEER_AUDIENCE`: required `iss`/`aud`. Default to `authbridge`.
        - `PEER_LEEWAY`: seconds of clock skew allowed on `exp`. Defaults to 5,
          as authbridge's own `AUTHBRIDGE_JWT_LEEWAY`.
        - `PEER_JWKS_COOLDOWN`: seconds after a fetch of the key set before a
          token with an unknown `kid` may make us fetch it again (`jwks`
          only). Defaults to 30, PyJWT's default: a flood of made-up `kid`s
          then costs authbridge one request per 30 s.
        """
        authbridge_url = env.get("AUTHBRIDGE_URL", "http://127.0.0.1:3000").rstrip("/")
        verify = env.get("PEER_VERIFY", "hs256").lower()
        secret_key = None
        if verify == "hs256":
            secret_key = env.get("SECRET_KEY") or None
            if secret_key is None:
                raise ValueError("PEER_VERIFY=hs256 needs SECRET_KEY (the one authbridge uses)")
            algorithms = ["HS256"]
        elif verify == "jwks":
            algorithms = [a.strip() for a in env.get("PEER_ALGORITHMS", "EdDSA,ES256").split(",")]
            if not algorithms or not set(algorithms) <= ASYMMETRIC_ALGORITHMS:
                raise ValueError(f"PEER_ALGORITHMS must be among {sorted(ASYMMETRIC_ALGORITHMS)}")
        else:
            raise ValueError("PEER_VERIFY must be hs256 or jwks")
        return cls(
            authbridge_url=authbridge_url,
            verify=verify,
            secret_key=secret_key,
            jwks_url=env.get("PEER_JWKS_URL", f"{authbridge_url}/.well-known/jwks.json"),
            algorithms=algorithms,
            issuer=env.get("PEER_ISSUER", "authbridge"),
            audience=env.get("PEER_AUDIENCE", "authbridge"),
            leeway=float(env.get("PEER_LEEWAY", "5")),
            jwks_cooldown=float(env.get("PEER_JWKS_COOLDOWN", "30")),
        )


settings = Settings.from_env()

# Where the "Authorize" button of /docs gets a token; clients use it too.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl=f"{settings.authbridge_url}/api/token")

# Caches the key set for 5 minutes, and fetches it again (at most once per
# cooldown) when a token names a `kid` it has not seen: a key authbridge added
# since is found without a restart.
jwks_client = (
    jwt.PyJWKClient(
        settings.jwks_url,
        cache_jwk_set=True,
        lifespan=300,
        timeout=5,
        cooldown_duration=settings.jwks_cooldown,
    )
    if settings.verify == "jwks"
    else None
)


def invalid_token() -> HTTPException:
    """401 with the challenge RFC 6750 §3 asks for."""
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="Invalid or expired token",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def verification_key(token: str) -> jwt.PyJWK | str:
    """The key for this token: the shared secret, or the JWKS key named by its `kid`."""
    if jwks_client is None:
        assert settings.secret_key is not None
        return settings.secret_key
    # A PyJWK is bound to its own `alg`: PyJWT refuses a token whose header
    # names another one, so a public key is never taken as an HMAC secret.
    return jwks_client.get_signing_key_from_jwt(token)


# A plain `def`: PyJWKClient fetches with blocking I/O, which FastAPI then
# runs in its thread pool instead of on the event loop.
def current_claims(token: Annotated[str, Depends(oauth2_scheme)]) -> dict[str, Any]:
    """The claims of a valid authbridge access token, or a 401."""
    try:
        return jwt.decode(
            token,
            verification_key(token),
            algorithms=settings.algorithms,
            audience=settings.audience,
            issuer=settings.issuer,
            leeway=settings.leeway,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWKClientConnectionError as error:
        # Not the token's fault: authbridge's key set could not be fetched.
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Keys unavailable") from error
    except jwt.PyJWTError as error:
        raise invalid_token() from error


app = FastAPI(title="authbridge FastAPI peer")


@app.get("/healthz")
def healthz() -> str:
    """Readiness, without a token."""
    return "ok"


@app.get("/whoami")
def whoami(claims: Annotated[dict[str, Any], Depends(current_claims)]) -> dict[str, Any]:
    """The caller as the token tells it, with what we checked."""
    return {
        "sub": claims["sub"],
        "name": claims.get("name"),
        "sid": claims.get("sid"),
        "iss": claims["iss"],
        "aud": claims["aud"],
        "exp": claims["exp"],
        "verified_with": settings.verify,
    }
