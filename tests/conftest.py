"""Shared fixtures: one migrated database per run, each test inside a rolled-back transaction.

Set ``MARKET_TEST_DATABASE_URL`` to run the same suite on PostgreSQL; SQLite otherwise.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from market import create_app
from market.config import normalise_database_url
from market.extensions import db, limiter
from market.site.pagecache import clear_all as clear_pages

TEST_DATABASE_URL = os.environ.get("MARKET_TEST_DATABASE_URL", "")
TRANSLATIONS = Path(__file__).resolve().parent.parent / "market" / "translations"
_browser_tests_passed = 0


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile stale message catalogues, so that pytest alone tests the current strings."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as fh:
                catalogue = read_po(fh)
            with mo.open("wb") as fh:
                write_mo(fh, catalogue)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    global _browser_tests_passed
    if report.when == "call" and report.passed and "browser" in report.keywords:
        _browser_tests_passed += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI (MARKET_REQUIRE_BROWSER=1) a run in which no browser test passed is a failure."""
    required = os.environ.get("MARKET_REQUIRE_BROWSER") == "1"
    if required and session.testscollected > 50 and _browser_tests_passed == 0:
        print("\nFAILED: no browser test ran (MARKET_REQUIRE_BROWSER=1)")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _reset_schema(url: str) -> None:
    """Start every run from an empty database so migrations are what builds the schema."""
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def make_test_app(tmp: Path, database_url: str, **extra) -> Flask:
    config = {
        "TESTING": True,
        "SECRET_KEY": secrets.token_hex(32),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MARKET_INSTANCE_PATH": str(tmp),
        "MARKET_UPLOAD_DIR": str(tmp / "uploads"),
        "MARKET_BASE_URL": "http://market.test",
        "MARKET_SMTP_HOST": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
        "WTF_CSRF_ENABLED": False,
    }
    config.update(extra)
    return create_app(config)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp = tmp_path_factory.mktemp("instance")
    url = normalise_database_url(TEST_DATABASE_URL or f"sqlite:///{tmp / 'test.sqlite3'}")
    _reset_schema(url)
    application = make_test_app(tmp, url)
    with application.app_context():
        upgrade()
        from market.catalogue.services import load_reference_data

        load_reference_data()
        db.session.commit()
        db.session.remove()
    yield application
    with application.app_context():
        db.engine.dispose()


class _ConnectionSession(Session):
    """A plain SQLAlchemy session, which (unlike Flask-SQLAlchemy's) honours ``bind``."""

    def __init__(self, db=None, **options) -> None:
        super().__init__(**options)


@pytest.fixture
def database(app: Flask) -> Iterator[None]:
    """Bind the session to one connection whose outer transaction is rolled back at the end.

    Code under test commits freely: with ``create_savepoint`` a commit releases a savepoint.
    """
    with app.app_context():
        connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = db._make_scoped_session(
        {
            "class_": _ConnectionSession,
            "bind": connection,
            "join_transaction_mode": "create_savepoint",
        }
    )
    limiter.reset()
    clear_pages()
    try:
        yield
    finally:
        clear_pages()
        with app.app_context():
            db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()


@pytest.fixture
def ctx(app: Flask, database: None) -> Iterator[Flask]:
    """An application context for tests that call services directly (not with ``client``)."""
    with app.test_request_context():
        yield app


@pytest.fixture
def client(app: Flask, database: None) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def csrf_on(app: Flask) -> Iterator[None]:
    """Most view tests post forms directly; CSRF has its own tests with this fixture."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# A real SMTP server on 127.0.0.1 ------------------------------------------------------------


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    refuse: set[str] = field(default_factory=set)
    port: int = 0

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in m["To"]]

    def last_link(self, address: str, pattern: str = r"https?://\S+") -> str:
        message = self.to(address)[-1]
        body = message.get_body(("plain",)).get_content()
        return re.findall(pattern, body)[0]


class _Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.mailbox.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.mailbox.lock:
            self.mailbox.messages.append(message)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(app: Flask) -> Iterator[Mailbox]:
    """An aiosmtpd server on a free port; the app sends to it for the test's duration."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(_Handler(mailbox), hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.port = controller.port
    saved = {
        k: app.config[k] for k in ("MARKET_SMTP_HOST", "MARKET_SMTP_PORT", "MARKET_SMTP_SECURITY")
    }
    app.config.update(
        MARKET_SMTP_HOST="127.0.0.1", MARKET_SMTP_PORT=controller.port, MARKET_SMTP_SECURITY="none"
    )
    try:
        yield mailbox
    finally:
        controller.stop()
        app.config.update(saved)


def deliver(app: Flask):
    """Run the outbox sender once, as the scheduler would."""
    from market.alerts.services import deliver_outbox

    with app.app_context():
        return deliver_outbox()


# Accounts to act as ------------------------------------------------------------------------

PASSWORD = "đúng-mật-khẩu-1"


@dataclass
class Account:
    id: int
    email: str
    password: str
    organisation_id: int | None = None
    organisation_slug: str | None = None


def create_member(
    *,
    email: str,
    organisation_name: str = "HTX Nông nghiệp Thử nghiệm",
    kind: str = "cooperative",
    verified_email: bool = True,
) -> Account:
    """A member with an organisation; call inside an app context."""
    from market.accounts.models import User
    from market.accounts.services import hash_password
    from market.db import utcnow
    from market.orgs.models import Membership
    from market.orgs.services import create_organisation

    user = User(
        email=email,
        password_hash=hash_password(PASSWORD),
        name="Nguyễn Văn A",
        locale="vi",
        email_verified_at=utcnow() if verified_email else None,
    )
    organisation = create_organisation(name=organisation_name, kind=kind)
    db.session.add_all([user, Membership(user=user, organisation=organisation)])
    db.session.commit()
    return Account(user.id, email, PASSWORD, organisation.id, organisation.slug)


def create_staff(*, email: str, role: str = "official") -> Account:
    from market.accounts.services import create_user

    user, _ = create_user(email=email, role=role, password=PASSWORD, name="Cán bộ Sở")
    db.session.commit()
    return Account(user.id, email, PASSWORD)


@pytest.fixture
def member(app: Flask, database: None) -> Account:
    with app.app_context():
        return create_member(email="htx.a@example.com")


@pytest.fixture
def other_member(app: Flask, database: None) -> Account:
    with app.app_context():
        return create_member(email="htx.b@example.com", organisation_name="HTX Khác")


@pytest.fixture
def official(app: Flask, database: None) -> Account:
    with app.app_context():
        return create_staff(email="canbo.test@example.com")


@pytest.fixture
def admin_account(app: Flask, database: None) -> Account:
    with app.app_context():
        return create_staff(email="quantri.test@example.com", role="admin")


def log_in(client: FlaskClient, account: Account, *, remember: bool = False):
    return client.post(
        "/login",
        data={
            "email": account.email,
            "password": account.password,
            "remember": "y" if remember else "",
        },
    )
