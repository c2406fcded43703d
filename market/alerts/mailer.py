"""Building e-mails from templates and talking SMTP with the ``MARKET_SMTP_*`` settings."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, render_template
from flask_babel import force_locale

log = logging.getLogger(__name__)


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


def build_message(
    *, to: str, rendered: RenderedEmail, message_id: str | None = None
) -> EmailMessage:
    config = current_app.config
    msg = EmailMessage()
    msg["From"] = config["MARKET_MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = rendered.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id or make_msgid(domain=_mail_domain())
    for name, value in rendered.headers.items():
        msg[name] = value
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    return msg


def _mail_domain() -> str:
    sender = current_app.config["MARKET_MAIL_FROM"]
    return sender.rsplit("@", 1)[-1].strip("> ") or "localhost"


def smtp_configured() -> bool:
    return bool(current_app.config.get("MARKET_SMTP_HOST"))


def open_smtp() -> smtplib.SMTP:
    """Connect and log in as configured: plain, STARTTLS or implicit TLS (ssl)."""
    config = current_app.config
    host, port = config["MARKET_SMTP_HOST"], int(config["MARKET_SMTP_PORT"])
    security = config["MARKET_SMTP_SECURITY"]
    timeout = float(config["MARKET_SMTP_TIMEOUT"])
    context = ssl.create_default_context()
    if security == "ssl":
        conn: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        conn = smtplib.SMTP(host, port, timeout=timeout)
        if security == "starttls":
            conn.starttls(context=context)
    if config.get("MARKET_SMTP_USER"):
        conn.login(config["MARKET_SMTP_USER"], config.get("MARKET_SMTP_PASSWORD") or "")
    return conn


@dataclass
class Delivery:
    ok: bool
    permanent: bool = False
    answer: str = ""


def deliver(conn: smtplib.SMTP, msg: EmailMessage) -> Delivery:
    """Send one message on an open connection and classify the server's answer."""
    try:
        refused = conn.send_message(msg)
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


def send_now(*, to: str, rendered: RenderedEmail) -> None:
    """Send one message straight away; without an SMTP server, write it to the log instead."""
    msg = build_message(to=to, rendered=rendered)
    if not smtp_configured():
        log.info(
            "E-mail (no MARKET_SMTP_HOST set) to %s: %s\n%s", to, rendered.subject, rendered.text
        )
        return
    with open_smtp() as conn:
        result = deliver(conn, msg)
    if not result.ok:
        log.warning("E-mail to %s refused: %s", to, result.answer)
