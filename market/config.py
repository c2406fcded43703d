"""Every setting of the application, read from ``MARKET_*`` environment variables in one place.

Nothing else in the code reads the environment: tests and tools override settings by passing a
dict to ``create_app``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"MARKET_{name}")
    return value if value not in (None, "") else default


def _secret_key(instance_path: Path) -> str:
    """Generate a secret key once and keep it in the instance folder, never in the code."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: if two processes start at once, the second reads what the first wrote.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def instance_path() -> Path:
    return Path(_env("INSTANCE_PATH", str(DEFAULT_INSTANCE)))


def load_settings(overrides: dict | None = None) -> dict:
    """Build the Flask config from the environment; ``overrides`` win over it."""
    overrides = overrides or {}
    instance = Path(overrides.get("MARKET_INSTANCE_PATH") or instance_path())
    base_url = (_env("BASE_URL", "http://127.0.0.1:5000") or "").rstrip("/")
    database_url = _env("DATABASE_URL", f"sqlite:///{instance / 'market.sqlite3'}")
    secure_cookies = base_url.startswith("https://")
    settings = {
        "MARKET_INSTANCE_PATH": str(instance),
        "SECRET_KEY": overrides.get("SECRET_KEY") or _env("SECRET_KEY") or _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "MARKET_BASE_URL": base_url,
        "MARKET_SMTP_HOST": _env("SMTP_HOST"),
        "MARKET_SMTP_PORT": int(_env("SMTP_PORT", "25")),
        "MARKET_SMTP_USER": _env("SMTP_USER"),
        "MARKET_SMTP_PASSWORD": _env("SMTP_PASSWORD"),
        "MARKET_SMTP_SECURITY": (_env("SMTP_SECURITY", "none") or "none").lower(),
        "MARKET_SMTP_TIMEOUT": float(_env("SMTP_TIMEOUT", "20")),
        # A private CA's certificate, for mail servers on a government network.
        "MARKET_SMTP_CA_FILE": _env("SMTP_CA_FILE"),
        "MARKET_MAIL_FROM": _env("MAIL_FROM", "Sở Công Thương Quảng Trị <no-reply@localhost>"),
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URL", "memory://"),
        "MARKET_UPLOAD_DIR": str(instance / "uploads"),
        "MAX_CONTENT_LENGTH": int(_env("MAX_UPLOAD_BYTES", str(8 * 1024 * 1024))),
        "MARKET_DOCUMENT_MAX_BYTES": 5 * 1024 * 1024,
        # Cookies: HttpOnly and SameSite=Lax always, Secure when served over HTTPS.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "PREFERRED_URL_SCHEME": "https" if secure_cookies else "http",
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "MARKET_LOCALES": ("vi", "en"),
        "MARKET_TOKEN_MAX_AGE": 3 * 24 * 3600,
        "MARKET_LOGIN_LIMITS": "10 per minute",
        "MARKET_PROXY_COUNT": int(_env("PROXY_COUNT", "0")),
        # E-mail delivery and the scheduler process.
        "MARKET_OUTBOX_INTERVAL_SECONDS": int(_env("OUTBOX_INTERVAL_SECONDS", "60")),
        "MARKET_OUTBOX_BATCH": int(_env("OUTBOX_BATCH", "200")),
        "MARKET_OUTBOX_MAX_ATTEMPTS": int(_env("OUTBOX_MAX_ATTEMPTS", "8")),
        "MARKET_OUTBOX_BACKOFF_SECONDS": int(_env("OUTBOX_BACKOFF_SECONDS", "60")),
        "MARKET_OUTBOX_LEASE_SECONDS": int(_env("OUTBOX_LEASE_SECONDS", "300")),
        "MARKET_SCHEDULER_HEARTBEAT_SECONDS": int(_env("SCHEDULER_HEARTBEAT_SECONDS", "30")),
        "MARKET_SCHEDULER_LOCK_TTL_SECONDS": int(_env("SCHEDULER_LOCK_TTL_SECONDS", "120")),
        "MARKET_MISFIRE_GRACE_SECONDS": int(_env("MISFIRE_GRACE_SECONDS", "600")),
        # Price collection: politeness and limits of the fetcher.
        "MARKET_FETCH_DELAY_SECONDS": float(_env("FETCH_DELAY_SECONDS", "1.0")),
        "MARKET_FETCH_TIMEOUT_SECONDS": float(_env("FETCH_TIMEOUT_SECONDS", "30")),
        "MARKET_FETCH_RETRIES": int(_env("FETCH_RETRIES", "3")),
        "MARKET_FETCH_BACKOFF_SECONDS": float(_env("FETCH_BACKOFF_SECONDS", "0.5")),
        "MARKET_FETCH_MAX_BYTES": int(_env("FETCH_MAX_BYTES", "5000000")),
    }
    settings.update(overrides)
    return settings


def normalise_database_url(url: str) -> str:
    """Accept the usual ``postgres://`` spellings and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
