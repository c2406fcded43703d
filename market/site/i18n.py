"""Which language and time zone a request is served in, and the formats people expect."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import current_app, has_request_context, request, session
from flask_babel import format_decimal, get_locale, to_user_timezone
from flask_login import current_user

LOCALE_COOKIE = "market_locale"


def select_locale() -> str:
    """The user's choice, then the visitor's cookie; Vietnamese when nobody said otherwise."""
    locales = current_app.config["MARKET_LOCALES"]
    if not has_request_context():  # jobs and commands: e-mails force their own locale
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    forced = getattr(request, "market_locale", None)
    if forced in locales:
        return forced
    if current_user and getattr(current_user, "is_authenticated", False):
        return current_user.locale if current_user.locale in locales else "vi"
    chosen = session.get("locale") or request.cookies.get(LOCALE_COOKIE)
    return chosen if chosen in locales else current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def current_locale() -> str:
    return str(get_locale() or "vi")


def format_day(value: date | datetime | None) -> str:
    """dd/mm/yyyy in both languages: the form every Vietnamese reader knows."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_user_timezone(value).date()
    return value.strftime("%d/%m/%Y")


def format_moment(value: datetime | None) -> str:
    """dd/mm/yyyy HH:MM in Asia/Ho_Chi_Minh."""
    if value is None:
        return ""
    return to_user_timezone(value).strftime("%d/%m/%Y %H:%M")


def format_number(value: int | float | Decimal | None, digits: int | None = None) -> str:
    """1.234,5 in Vietnamese, 1,234.5 in English."""
    if value is None:
        return ""
    if digits is not None:
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern)
    return format_decimal(value)


def format_money(value: int | Decimal | None) -> str:
    if value is None:
        return ""
    return f"{format_number(value, 0)} đ"
