"""Configuration from the environment, with safe defaults for a laptop.

APP_ENV selects the mode: "production" (the default, so a forgotten variable fails safe),
"development" (make run) or "testing". Everything else has a default that runs on one machine:
SQLite in instance/, local-filesystem storage, in-process jobs.
"""

import os
import secrets
from pathlib import Path

MODES = ("production", "development", "testing")


class ConfigError(RuntimeError):
    """The environment does not describe a runnable configuration."""


def database_url(instance_path: str) -> str:
    """DATABASE_URL, normalised to SQLAlchemy's psycopg 3 driver; a SQLite file otherwise."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{Path(instance_path) / 'moderation.sqlite3'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def secret_key(mode: str, instance_path: str) -> str:
    """SECRET_KEY from the environment; required in production.

    In development a random key is kept in instance/ so logins survive a restart.
    """
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    if mode == "production":
        raise ConfigError(
            "SECRET_KEY is not set. Production mode needs a long random SECRET_KEY in the "
            "environment (for example: python -c 'import secrets; print(secrets.token_hex(32))'). "
            "For a local trial, set APP_ENV=development instead."
        )
    if mode == "testing":
        return secrets.token_hex(32)
    key_file = Path(instance_path) / "dev_secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
    return key_file.read_text().strip()


def trusted_proxy_hops() -> int:
    """How many proxies in front of the app may be believed about the client (X-Forwarded-For).

    0, the default, believes none: anyone can send the header, so trusting it unasked would let
    a client choose its own address and escape the login limits.
    """
    value = os.environ.get("TRUSTED_PROXY_HOPS", "").strip() or "0"
    if not value.isdigit():
        raise ConfigError(f"TRUSTED_PROXY_HOPS must be a whole number of proxies (0 = none); "
                          f"got {value!r}.")
    return int(value)


def load_config(instance_path: str) -> dict:
    """Build the Flask config mapping from the environment."""
    mode = os.environ.get("APP_ENV", "production").strip() or "production"
    if mode not in MODES:
        raise ConfigError(f"APP_ENV must be one of {', '.join(MODES)}; got {mode!r}.")
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    is_production = mode == "production"
    return {
        "APP_ENV": mode,
        "TESTING": mode == "testing",
        "SECRET_KEY": secret_key(mode, instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": is_production,
        "REMEMBER_COOKIE_SECURE": is_production,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session, not one hour
        # Without REDIS_URL each worker process counts on its own (create_app warns).
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL", "").strip() or "memory://",
        # Keeps the counters of several apps (or test runs) sharing one Redis apart.
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "").strip(),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Live sessions keep who is present in Redis when there is one (sessions/presence.py).
        "PRESENCE_REDIS_URL": os.environ.get("REDIS_URL", "").strip(),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "5 per minute"),
        "LOGIN_ADDRESS_RATE_LIMIT": os.environ.get("LOGIN_ADDRESS_RATE_LIMIT", "50 per minute"),
        "TRUSTED_PROXY_HOPS": trusted_proxy_hops(),
        **account_link_config(mode),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_MB", "20")) * 1024 * 1024,
        **storage_config(mode, instance_path),
        **mail_config(mode),
        **sso_config(mode),
        **jobs_config(mode),
    }


def account_link_config(mode: str) -> dict:
    """The links emailed for invitations and password resets (moderation/accounts/tokens.py).

    PUBLIC_URL is the address people reach the platform at, such as https://moderation.district.org.
    Links are built from it, never from the request's Host header: a forged Host would otherwise
    put an attacker's address in front of a real reset token. Empty in production until set
    (links then cannot be sent, and the pages say so); a laptop's `make run` address otherwise.
    """
    default_url = "" if mode == "production" else "http://127.0.0.1:5000"
    return {
        "PUBLIC_URL": (os.environ.get("PUBLIC_URL", "").strip() or default_url).rstrip("/"),
        "INVITATION_DAYS": int(os.environ.get("INVITATION_DAYS", "7")),
        "PASSWORD_RESET_MINUTES": int(os.environ.get("PASSWORD_RESET_MINUTES", "60")),
        # The reset form's answer takes at least this long, with or without an account.
        "PASSWORD_RESET_ANSWER_SECONDS": float(os.environ.get("PASSWORD_RESET_ANSWER_SECONDS",
                                                              "0.2")),
        # Per typed address (whether or not an account uses it) and per client address, so no
        # one can fill a person's inbox, nor try addresses by the thousand.
        "PASSWORD_RESET_RATE_LIMIT": os.environ.get("PASSWORD_RESET_RATE_LIMIT", "3 per hour"),
        "PASSWORD_RESET_ADDRESS_RATE_LIMIT": os.environ.get(
            "PASSWORD_RESET_ADDRESS_RATE_LIMIT", "20 per hour"),
    }


def storage_config(mode: str, instance_path: str) -> dict:
    """Where uploads are stored (moderation/core/storage.py): local files, S3, or memory (tests)."""
    default_backend = "memory" if mode == "testing" else "local"
    return {
        "STORAGE_BACKEND": os.environ.get("STORAGE_BACKEND", "").strip() or default_backend,
        "STORAGE_LOCAL_PATH": os.environ.get("STORAGE_LOCAL_PATH", "").strip()
        or str(Path(instance_path) / "storage"),
        "S3_BUCKET": os.environ.get("S3_BUCKET", "").strip(),
        "S3_PREFIX": os.environ.get("S3_PREFIX", "").strip(),
        "S3_ENDPOINT_URL": os.environ.get("S3_ENDPOINT_URL", "").strip() or None,
        "S3_REGION": os.environ.get("S3_REGION", "").strip() or None,
        "S3_PRESIGN_SECONDS": int(os.environ.get("S3_PRESIGN_SECONDS", "300")),
    }


def jobs_config(mode: str) -> dict:
    """Background jobs (moderation/core/jobs.py): RQ on Redis when REDIS_URL is set, else a
    thread in each process; the tests run jobs themselves unless they ask for a backend."""
    redis_url = os.environ.get("REDIS_URL", "").strip()
    default_backend = "manual" if mode == "testing" else ("rq" if redis_url else "thread")
    return {
        "JOBS_BACKEND": os.environ.get("JOBS_BACKEND", "").strip() or default_backend,
        "JOBS_REDIS_URL": redis_url,
        "JOBS_QUEUE": os.environ.get("JOBS_QUEUE", "").strip() or "moderation",
        # How often a worker looks for work a dead worker left (runs whose lease ran out).
        "JOBS_SWEEP_SECONDS": float(os.environ.get("JOBS_SWEEP_SECONDS", "10")),
        # A worker's hold on an analysis run, renewed while it computes: a killed worker's
        # run is taken up again this long after its last renewal.
        "ANALYSIS_LEASE_SECONDS": float(os.environ.get("ANALYSIS_LEASE_SECONDS", "30")),
        # Bootstrap replicates of the alpha intervals (the engine's default: 1,000).
        "ANALYSIS_BOOTSTRAP": int(os.environ.get("ANALYSIS_BOOTSTRAP", "1000")),
        # Tests only, never in production: a pause at every step, so a test can stop a
        # worker mid-run, or a browser test (whose server runs in development mode) can watch
        # the progress move.
        "ANALYSIS_STEP_DELAY": float(os.environ.get("ANALYSIS_STEP_DELAY", "0"))
        if mode != "production" else 0.0,
    }


def mail_config(mode: str) -> dict:
    """How email leaves (moderation/core/mail/): SMTP when SMTP_URL is set, else the console in
    development; who sends it (a thread in each web process, or `flask mail send-due`)."""
    return {
        "SMTP_URL": os.environ.get("SMTP_URL", "").strip(),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "").strip()
        or "Moderation platform <no-reply@localhost>",
        # Tests send by calling the sender themselves, so no thread outlives a test's app.
        "MAIL_DELIVERY": os.environ.get("MAIL_DELIVERY", "").strip()
        or ("manual" if mode == "testing" else "background"),
        "MAIL_POLL_SECONDS": float(os.environ.get("MAIL_POLL_SECONDS", "60")),
    }


def _flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be true or false; got {value!r}.")


def sso_config(mode: str) -> dict:
    """Single sign-on with an OpenID Connect provider (moderation/accounts/sso.py): off unless
    OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are all set."""
    issuer = os.environ.get("OIDC_ISSUER", "").strip()
    client_id = os.environ.get("OIDC_CLIENT_ID", "").strip()
    secret = os.environ.get("OIDC_CLIENT_SECRET", "").strip()
    given = [name for name, value in (("OIDC_ISSUER", issuer), ("OIDC_CLIENT_ID", client_id),
                                      ("OIDC_CLIENT_SECRET", secret)) if value]
    if given and len(given) < 3:
        missing = sorted({"OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"} - set(given))
        raise ConfigError(f"Single sign-on needs OIDC_ISSUER, OIDC_CLIENT_ID and "
                          f"OIDC_CLIENT_SECRET together; {', '.join(missing)} is not set.")
    # The ID token's signature keys and the token exchange come from the issuer: over plain
    # http anyone on the path could hand out sign-ins. Only a provider on this machine (a
    # test or a laptop trial) may use http.
    if issuer and mode == "production" and not issuer.startswith("https://"):
        raise ConfigError(f"OIDC_ISSUER must be an https:// address in production; "
                          f"got {issuer!r}.")
    domains = os.environ.get("OIDC_ALLOWED_DOMAINS", "")
    return {
        "OIDC_ISSUER": issuer,
        "OIDC_CLIENT_ID": client_id,
        "OIDC_CLIENT_SECRET": secret,
        "OIDC_LABEL": os.environ.get("OIDC_LABEL", "").strip() or "Sign in with single sign-on",
        # Google Workspace: the hosted domains (the ID token's hd claim) whose accounts may
        # sign in; empty accepts any account the provider vouches for.
        "OIDC_ALLOWED_DOMAINS": tuple(sorted({d.strip().lower() for d in domains.split(",")
                                              if d.strip()})),
        # Microsoft Entra may send an email claim without email_verified. Trusting it is safe
        # only for a single-tenant app whose tenant owns the email domains (README).
        "OIDC_TRUST_EMAIL": _flag("OIDC_TRUST_EMAIL"),
    }
