from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import EqualTo, Length

from market.forms import email_address, max_length, optional, options, required

ORGANISATION_KINDS = options(
    [
        ("cooperative", _l("Cooperative (hợp tác xã)")),
        ("household", _l("Farm household")),
        ("enterprise", _l("Enterprise: processor, exporter, supermarket")),
        ("trader", _l("Trader")),
    ]
)
LANGUAGES = options([("vi", "Tiếng Việt"), ("en", "English")])

_password_length = Length(
    min=8, max=200, message=_l("The password must have at least 8 characters.")
)
_same_password = EqualTo("password", message=_l("The two passwords do not match."))


class SignUpForm(FlaskForm):
    organisation_kind = RadioField(
        _l("I sign up for"),
        choices=ORGANISATION_KINDS,
        default="cooperative",
        validators=[required],
    )
    organisation_name = StringField(
        _l("Name of the cooperative, household or company"), validators=[required, max_length(200)]
    )
    name = StringField(_l("Your full name"), validators=[required, max_length(120)])
    email = EmailField(_l("E-mail address"), validators=[required, email_address, max_length(254)])
    phone = StringField(_l("Phone (optional)"), validators=[optional, max_length(30)])
    password = PasswordField(_l("Password"), validators=[required, _password_length])
    confirm = PasswordField(_l("Password again"), validators=[required, _same_password])


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[required, max_length(254)])
    password = PasswordField(_l("Password"), validators=[required, max_length(200)])
    remember = BooleanField(_l("Keep me logged in on this device"))


class EmailForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[required, email_address, max_length(254)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[required, _password_length])
    confirm = PasswordField(_l("New password again"), validators=[required, _same_password])


class ProfileForm(FlaskForm):
    name = StringField(_l("Your full name"), validators=[required, max_length(120)])
    phone = StringField(_l("Phone"), validators=[optional, max_length(30)])
    locale = SelectField(_l("Language"), choices=LANGUAGES, validators=[required])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[required])
    new_password = PasswordField(_l("New password"), validators=[required, _password_length])
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            required,
            EqualTo("new_password", message=_l("The two passwords do not match.")),
        ],
    )
