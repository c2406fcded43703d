"""Pieces every domain's forms share."""

from __future__ import annotations

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from market.errors import DomainError

required = DataRequired(message=_l("This field is required."))
optional = Optional()
email_address = Email(message=_l("Enter a valid e-mail address."), check_deliverability=False)


def options(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def max_length(n: int) -> Length:
    return Length(max=n, message=_l("At most %(max)d characters."))


def show_error(form: FlaskForm, error: DomainError) -> None:
    """Put a service's message next to the field it concerns, or at the top of the page."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        errors = list(field.errors) if isinstance(field.errors, (list, tuple)) else []
        field.errors = [*errors, error.message]
    else:
        flash(error.message, "error")
