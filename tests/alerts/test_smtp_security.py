"""STARTTLS and implicit TLS (ssl), with login, against aiosmtpd with a certificate we make."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from market.accounts.models import User
from market.alerts.services import deliver_outbox
from market.extensions import db
from tests.alerts.test_outbox import _queue
from tests.conftest import Mailbox, _Handler, free_port

pytestmark = pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl command")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


class _TlsHandler(_Handler):
    """Records whether each message arrived over an encrypted session."""

    def __init__(self, mailbox: Mailbox) -> None:
        super().__init__(mailbox)
        self.encrypted: list[bool] = []

    async def handle_DATA(self, server, session, envelope):
        implicit = server.transport.get_extra_info("ssl_object") is not None
        self.encrypted.append(session.ssl is not None or implicit)
        return await super().handle_DATA(server, session, envelope)


class _Logins:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        login = auth_data.login.decode()
        password = auth_data.password.decode()
        self.seen.append((login, password))
        return AuthResult(success=(login, password) == ("soct", "mật-khẩu"))


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_delivery_over_tls_with_login(app, ctx, member, certificate, security) -> None:
    cert, key = certificate
    mailbox, logins, port = Mailbox(), _Logins(), free_port()
    server_context = _server_context(cert, key)
    # aiosmtpd may answer the first EHLO on a new TLS session before it marks the session as
    # encrypted, and then hides AUTH; so AUTH is allowed in clear here, and the handler checks
    # instead that each message did arrive encrypted (require_starttls refuses clear mail).
    options = (
        {"tls_context": server_context, "require_starttls": True, "auth_require_tls": False}
        if security == "starttls"
        else {"ssl_context": server_context, "auth_require_tls": False}
    )
    handler = _TlsHandler(mailbox)
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, authenticator=logins, **options
    )
    controller.start()
    saved = dict(app.config)
    app.config.update(
        MARKET_SMTP_HOST="127.0.0.1",
        MARKET_SMTP_PORT=port,
        MARKET_SMTP_SECURITY=security,
        MARKET_SMTP_USER="soct",
        MARKET_SMTP_PASSWORD="mật-khẩu",
        MARKET_SMTP_CA_FILE=str(cert),
    )
    try:
        _queue(db.session.get(User, member.id), f"tls:{security}")
        report = deliver_outbox()
    finally:
        controller.stop()
        app.config.clear()
        app.config.update(saved)
    assert report.sent == 1, report
    assert logins.seen == [("soct", "mật-khẩu")]
    assert len(mailbox.to(member.email)) == 1
    assert handler.encrypted == [True]


def test_untrusted_certificate_is_not_accepted(app, ctx, member, certificate) -> None:
    cert, key = certificate
    mailbox, port = Mailbox(), free_port()
    controller = Controller(
        _Handler(mailbox),
        hostname="127.0.0.1",
        port=port,
        tls_context=_server_context(cert, key),
        require_starttls=True,
    )
    controller.start()
    saved = dict(app.config)
    app.config.update(
        MARKET_SMTP_HOST="127.0.0.1",
        MARKET_SMTP_PORT=port,
        MARKET_SMTP_SECURITY="starttls",
        MARKET_SMTP_CA_FILE=None,
    )
    try:
        _queue(db.session.get(User, member.id), "tls:untrusted")
        report = deliver_outbox()
    finally:
        controller.stop()
        app.config.clear()
        app.config.update(saved)
    assert report.sent == 0 and report.retried == 1
    assert "CERTIFICATE_VERIFY_FAILED" in report.errors[0]
    assert mailbox.messages == []
