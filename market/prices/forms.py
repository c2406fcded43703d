from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
    ValidationError,
)

from market.forms import max_length, optional, options, required
from market.prices.services import PRICE_TYPE_LABELS, SOURCE_KINDS
from market.text import parse_range

PRICE_TYPES = options(PRICE_TYPE_LABELS.items())


def _int_or_none(value: object) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)  # type: ignore[arg-type]


class ManualPriceForm(FlaskForm):
    commodity_id = SelectField(_l("Commodity"), coerce=_int_or_none, validators=[required])
    market_id = SelectField(_l("Market"), coerce=_int_or_none, validators=[required])
    price_type = SelectField(_l("Price type"), choices=PRICE_TYPES, validators=[required])
    price = StringField(
        _l("Price (đồng)"),
        validators=[required, max_length(60)],
        description=_l("As written: 64.800, or a range 64.800 - 65.000, or 1,2 triệu."),
    )
    unit_code = SelectField(_l("Per"), validators=[required])
    observed_on = DateField(_l("Date"), validators=[required])

    def validate_price(self, field: StringField) -> None:
        try:
            parse_range(field.data or "")
        except ValueError as exc:
            raise ValidationError(
                _l("Write the price as a number, e.g. 64.800 or 64.800 - 65.000.")
            ) from exc

    def validate_observed_on(self, field: DateField) -> None:
        # Checked here as well as in the service, so that it shows beside the price's error.
        if field.data and field.data > date.today():
            raise ValidationError(_l("The date cannot be in the future."))


class ImportForm(FlaskForm):
    file = FileField(_l("CSV or XLSX file"))


class SourceForm(FlaskForm):
    name = StringField(_l("Name"), validators=[required, max_length(100)])
    kind = SelectField(_l("Kind"), choices=options((k, k) for k in SOURCE_KINDS))
    url = URLField(_l("URL"), validators=[required, max_length(500)])
    schedule = StringField(
        _l("Schedule (cron: minute hour day month weekday)"),
        validators=[optional, max_length(100)],
        description=_l("For example 30 8 * * 1-6: at 08:30 from Monday to Saturday."),
    )
    default_price_type = SelectField(
        _l("Price type when the page does not say"), choices=PRICE_TYPES
    )
    settings = TextAreaField(
        _l("Adapter settings (JSON)"), validators=[optional, max_length(20000)]
    )
    enabled = BooleanField(_l("Enabled"))
    respect_robots = BooleanField(_l("Respect robots.txt"), default=True)
    description = TextAreaField(_l("Notes"), validators=[optional, max_length(2000)])


class ReviewForm(FlaskForm):
    reason = StringField(_l("Reason (required to reject)"), validators=[optional, max_length(300)])


class AlertRuleForm(FlaskForm):
    commodity_id = SelectField(_l("Commodity"), coerce=_int_or_none, validators=[required])
    market_id = SelectField(_l("Market"), coerce=_int_or_none, validators=[optional])
    kind = SelectField(_l("Tell me when the price"), validators=[required])
    threshold = StringField(
        _l("Value"),
        validators=[optional, max_length(40)],
        description=_l(
            "đồng per kg (or per the commodity's unit), or a percentage for weekly moves"
        ),
    )

    @property
    def threshold_value(self):
        """The value as a number: "90.000" is ninety thousand, "2,5" is two and a half."""
        from market.text import parse_number

        text = (self.threshold.data or "").replace("%", "").strip()
        return parse_number(text) if text else None

    def validate_threshold(self, field: StringField) -> None:
        try:
            self.threshold_value  # noqa: B018 - parse to validate
        except ValueError as exc:
            raise ValidationError(_l("Write a number, e.g. 90.000 or 5.")) from exc

    def __init__(self, *args, **kwargs) -> None:
        from market.prices.alerts import RULE_KINDS

        super().__init__(*args, **kwargs)
        self.kind.choices = options(RULE_KINDS.items())
