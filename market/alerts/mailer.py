"""Building e-mails from templates and talking SMTP with the ``MARKET_SMTP_*`` settings."""

from __future__ import annotations

import base64
import smtplib
import ssl
from dataclasses import dataclass, field
from email.base64mime import body_encode as encode_base64
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid, parseaddr

from flask import current_app, render_template
from flask_babel import force_locale


@dataclass
class RenderedEmail:
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


def render_email(template: str, *, locale: str, **context: object) -> RenderedEmail:
    """Render ``templates/email/<template>.{txt,html}`` in the recipient's language.

    The subject is the first line of the text part, after ``Subject:``.
    """
    with force_locale(locale):
        text = render_template(f"email/{template}.txt", locale=locale, **context)
        html = render_template(f"email/{template}.html", locale=locale, **context)
    first, _, body = text.partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"email/{template}.txt must start with 'Subject:'")
    return RenderedEmail(
        subject=first[len("Subject:") :].strip(), text=body.lstrip("\n"), html=html
    )


@dataclass(frozen=True)
class OutgoingEmail:
    """A message ready for the wire: envelope addresses and the MIME bytes."""

    sender: str
    recipient: str
    data: bytes
    message_id: str


def build_message(
    *, to: str, rendered: RenderedEmail, message_id: str | None = None
) -> OutgoingEmail:
    """A multipart/alternative message (text, then HTML), UTF-8 throughout.

    Built with the classic ``email.mime`` API: several times faster than ``EmailMessage``'s
    header registry, which matters when the sender works through thousands of messages.
    """
    config = current_app.config
    name, sender = parseaddr(config["MARKET_MAIL_FROM"])
    msg = MIMEMultipart("alternative")
    msg["From"] = formataddr((str(Header(name, "utf-8")), sender)) if name else sender
    msg["To"] = to
    msg["Subject"] = Header(rendered.subject, "utf-8")
    msg["Date"] = formatdate(localtime=False)
    message_id = message_id or make_msgid(domain=mail_domain())
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    for header, value in rendered.headers.items():
        msg[header] = value
    msg.attach(MIMEText(rendered.text, "plain", "utf-8"))
    msg.attach(MIMEText(rendered.html, "html", "utf-8"))
    # SMTP wants CRLF line ends; smtplib sends bytes as they are.
    data = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
    return OutgoingEmail(sender=sender, recipient=to, data=data, message_id=message_id)


def mail_domain() -> str:
    """The domain of ``MARKET_MAIL_FROM``, for Message-IDs."""
    return parseaddr(current_app.config["MARKET_MAIL_FROM"])[1].rsplit("@", 1)[-1] or "localhost"


def smtp_configured() -> bool:
    return bool(current_app.config.get("MARKET_SMTP_HOST"))


class _Utf8Auth:
    """smtplib encodes AUTH in ASCII; RFC 4616 (PLAIN) allows UTF-8 user names and passwords."""

    def auth(self, mechanism, authobject, *, initial_response_ok=True):  # type: ignore[no-untyped-def]
        mechanism = mechanism.upper()
        initial = authobject() if initial_response_ok else None
        if initial is not None:
            response = encode_base64(initial.encode("utf-8"), eol="")
            code, resp = self.docmd("AUTH", f"{mechanism} {response}")
            self._auth_challenge_count = 1
        else:
            code, resp = self.docmd("AUTH", mechanism)
            self._auth_challenge_count = 0
        while code == 334:
            self._auth_challenge_count += 1
            challenge = base64.decodebytes(resp)
            response = encode_base64(authobject(challenge).encode("utf-8"), eol="")
            code, resp = self.docmd(response)
            if self._auth_challenge_count > smtplib._MAXCHALLENGE:
                raise smtplib.SMTPException("Server AUTH mechanism infinite loop")
        if code in (235, 503):
            return code, resp
        raise smtplib.SMTPAuthenticationError(code, resp)


class _SMTP(_Utf8Auth, smtplib.SMTP):
    pass


class _SMTP_SSL(_Utf8Auth, smtplib.SMTP_SSL):
    pass


def open_smtp() -> smtplib.SMTP:
    """Connect and log in as configured: plain, STARTTLS or implicit TLS (ssl)."""
    config = current_app.config
    host, port = config["MARKET_SMTP_HOST"], int(config["MARKET_SMTP_PORT"])
    security = config["MARKET_SMTP_SECURITY"]
    timeout = float(config["MARKET_SMTP_TIMEOUT"])
    context = ssl.create_default_context(cafile=config.get("MARKET_SMTP_CA_FILE") or None)
    if security == "ssl":
        conn: smtplib.SMTP = _SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        conn = _SMTP(host, port, timeout=timeout)
    try:
        if security == "starttls":
            conn.starttls(context=context)
        if config.get("MARKET_SMTP_USER"):
            conn.login(config["MARKET_SMTP_USER"], config.get("MARKET_SMTP_PASSWORD") or "")
    except BaseException:
        conn.close()
        raise
    return conn


@dataclass
class Delivery:
    ok: bool
    permanent: bool = False
    answer: str = ""


def deliver(conn: smtplib.SMTP, msg: OutgoingEmail) -> Delivery:
    """Send one message on an open connection and classify the server's answer."""
    try:
        refused = conn.sendmail(msg.sender, [msg.recipient], msg.data)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        return Delivery(False, permanent=code >= 500, answer=f"{code} {_decode(text)}")
    except smtplib.SMTPResponseException as exc:
        return Delivery(
            False,
            permanent=exc.smtp_code >= 500,
            answer=f"{exc.smtp_code} {_decode(exc.smtp_error)}",
        )
    if refused:
        code, text = next(iter(refused.values()))
        return Delivery(False, permanent=code >= 500, answer=f"{code} {_decode(text)}")
    return Delivery(True, answer="250 OK")


def _decode(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
