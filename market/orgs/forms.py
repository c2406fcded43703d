from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, EmailField, SelectField, StringField, TextAreaField

from market.accounts.forms import ORGANISATION_KINDS
from market.forms import email_address, max_length, optional, options, required
from market.orgs.services import CERTIFICATION_LABELS


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[required, max_length(200)])
    kind = SelectField(_l("Kind"), choices=ORGANISATION_KINDS, validators=[required])
    tax_code = StringField(
        _l("Tax or business registration code"), validators=[optional, max_length(30)]
    )
    province = SelectField(_l("Province"), choices=[], validate_choice=False)
    ward_code = SelectField(_l("Commune or ward"), choices=[], validators=[optional])
    address = StringField(_l("Address (village, street)"), validators=[optional, max_length(300)])
    phone = StringField(_l("Phone"), validators=[optional, max_length(30)])
    email = EmailField(_l("E-mail"), validators=[optional, email_address, max_length(254)])
    description = TextAreaField(
        _l("About the organisation: products, area, capacity"),
        validators=[optional, max_length(4000)],
    )


def _optional_int(value: object) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)  # type: ignore[arg-type]


class CertificationForm(FlaskForm):
    kind = SelectField(
        _l("Kind"),
        choices=options((k.value, label) for k, label in CERTIFICATION_LABELS.items()),
        validators=[required],
    )
    number = StringField(_l("Number or code"), validators=[required, max_length(100)])
    issuer = StringField(_l("Issued by"), validators=[optional, max_length(200)])
    commodity_id = SelectField(
        _l("Product"), choices=[], coerce=_optional_int, validators=[optional]
    )
    valid_from = DateField(_l("Valid from"), validators=[optional])
    valid_until = DateField(_l("Valid until"), validators=[optional])
    ocop_stars = SelectField(
        _l("OCOP stars"),
        choices=options([("", "—"), ("3", "3 ★"), ("4", "4 ★"), ("5", "5 ★")]),
        coerce=_optional_int,
        validators=[optional],
    )
    document = FileField(_l("Scan or photo of the certificate (PDF, JPEG, PNG; at most 5 MB)"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[optional, max_length(500)])


class CheckCertificationForm(FlaskForm):
    status = SelectField(
        _l("Result"),
        choices=options(
            [("checked", _l("Checked: matches the document")), ("rejected", _l("Rejected"))]
        ),
        validators=[required],
    )
    note = StringField(_l("Note"), validators=[optional, max_length(500)])
