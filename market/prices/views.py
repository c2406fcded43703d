"""The public price pages: the board, each commodity's history, and their downloads."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from babel.numbers import get_decimal_symbol, get_group_symbol
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from market.catalogue import services as catalogue
from market.catalogue.models import Commodity
from market.errors import DomainError
from market.extensions import db
from market.forms import options, show_error
from market.prices import charts, history, series
from market.prices.services import PRICE_TYPE_LABELS
from market.site.downloads import file_response
from market.site.i18n import current_locale, format_day, format_number
from market.site.pagecache import PageCache, cached_fragment, cached_page

bp = Blueprint("prices", __name__)
# The board and commodity pages, rendered once per data version for visitors not signed in.
PAGES = PageCache()

LEVEL_LABELS = {
    "alert": _l("Price alert"),
    "watch": _l("Price watch"),
    "fall": _l("Unusual fall"),
    "low": _l("Falling"),
    "normal": _l("Normal"),
}
PERIOD_LABELS = {
    "3m": _l("3 months"),
    "1y": _l("1 year"),
    "3y": _l("3 years"),
    "5y": _l("5 years"),
    "all": _l("everything"),
}
GRAIN_LABELS = {"day": _l("daily"), "week": _l("weekly"), "month": _l("monthly")}
METHOD_LABELS = {"ipa": _l("FAO price anomaly indicator"), "robust_z": _l("recent-median test")}


_QUANTA = {digits: Decimal(10) ** -digits for digits in range(5)}
Separators = tuple[str, str]  # the locale's group and decimal symbols


@cache
def _separators_of(locale: str) -> Separators:
    return (
        get_group_symbol(locale, numbering_system="latn"),
        get_decimal_symbol(locale, numbering_system="latn"),
    )


@bp.app_template_global("number_separators")
def _separators() -> Separators | None:
    """The request's number symbols, for pages that format hundreds of numbers: looked up
    once, then handed to ``fixed`` and ``price_change``."""
    locale = get_locale()
    return None if locale is None else _separators_of(str(locale))


@bp.app_template_filter("fixed")
def _fixed(
    value: int | float | Decimal | None, digits: int, separators: Separators | None = None
) -> str:
    """``format_number(value, digits)`` for the price pages' many numbers, without Babel's
    pattern machinery: the same steps (Decimal of the float's repr, the context's rounding,
    groups of three) with the locale's symbols. Anything else than a finite non-negative
    number goes to ``format_number`` itself."""
    if value is None:
        return ""
    if isinstance(value, float):
        number = Decimal(str(value))
    elif isinstance(value, Decimal):
        number = value
    else:
        return format_number(value, digits)
    if separators is None:
        separators = _separators()
    if separators is None or digits not in _QUANTA or not number.is_finite() or number.is_signed():
        return format_number(value, digits)
    integer, _dot, fraction = f"{number.normalize().quantize(_QUANTA[digits]):f}".partition(".")
    group, point = separators
    if len(integer) > 3:
        head = len(integer) % 3 or 3
        integer = group.join(
            [integer[:head], *(integer[i : i + 3] for i in range(head, len(integer), 3))]
        )
    return f"{integer}{point}{fraction}" if digits else integer


@bp.app_template_filter("price_value")
def _price_value(value: Decimal | float | None, separators: Separators | None = None) -> str:
    """A price: whole đồng from 100 up, two decimals below (1,33 đ/kg)."""
    if value is None:
        return "—"
    return _fixed(value, 0 if value >= 100 else 2, separators)


@bp.app_template_filter("pct")
def _pct(value: float | None, separators: Separators | None = None) -> str:
    if value is None:
        return "—"
    sign = "+" if value > 0 else ("−" if value < 0 else "")
    return f"{sign}{_fixed(abs(value), 1, separators)} %"


@bp.app_template_filter("per_unit")
def _per_unit(priced: Any) -> str:
    """What a price is per, "đ/kg" or "USD/tấn", for anything with a currency and a unit."""
    return f"{'đ' if priced.currency == 'VND' else priced.currency}/{priced.unit_code}"


@bp.app_template_filter("trend")
def _trend(value: float | None) -> str:
    if value is None or abs(value) < 0.05:
        return "flat"
    return "up" if value > 0 else "down"


@bp.app_template_filter("level")
def _level(value: str | None) -> str:
    return str(LEVEL_LABELS.get(value or "", value or ""))


@bp.app_template_filter("method")
def _method(value: str | None) -> str:
    return str(METHOD_LABELS.get(value or "", value or ""))


@bp.app_template_filter("period_label")
def _period_label(value: str) -> str:
    return str(PERIOD_LABELS.get(value, value))


@bp.app_template_filter("grain_label")
def _grain_label(value: str) -> str:
    return str(GRAIN_LABELS.get(value, value))


# A global, not a context variable: the badge macros are imported without the context.
bp.add_app_template_global(series.WARNING_ORDER, "warning_levels")


@bp.app_template_global("sparkline")
def _sparkline(points) -> Markup:
    return charts.sparkline(points or [])


@bp.app_template_global("price_change")
def _price_change(value: float | None, label: str, separators: Separators | None = None) -> Markup:
    """The ``change`` macro of prices/_macros.html, as a function: the board calls it a
    thousand times."""
    arrow = "" if value is None else ("▲" if value > 0.05 else ("▼" if value < -0.05 else "■"))
    return Markup(
        f'<span class="chg chg-{_trend(value)}" title="{escape(label)}">{arrow} '
        f"{escape(_pct(value, separators))}</span>\n"
    )


# The query arguments each page reads; the page cache keys on these alone.
BOARD_ARGS = ("q", "category", "market", "type")
COMMODITY_ARGS = ("type", "market", "period", "grain")


def _filters() -> dict:
    return {
        "query": request.args.get("q", "").strip(),
        "category": request.args.get("category") or None,
        "market_id": request.args.get("market", type=int),
        "price_type": request.args.get("type")
        if request.args.get("type") in PRICE_TYPE_LABELS
        else None,
    }


@bp.get("/prices")
def board():
    filters = _filters()

    def body() -> str:
        return render_template(
            "prices/_board.html",
            entries=series.board(**filters),
            filters=filters,
            categories=catalogue.CATEGORY_LABELS,
            markets=series.markets_with_prices(),
            price_types=PRICE_TYPE_LABELS,
            type_names=_type_names(),
        )

    return cached_page(
        PAGES,
        version=series.data_version,
        args=BOARD_ARGS,
        render=lambda: render_template(
            "prices/board.html",
            body=cached_fragment(PAGES, version=series.data_version, render=body, args=BOARD_ARGS),
        ),
    )


def _type_names() -> dict[str, str]:
    """The price types' words in the reader's language, once per page rather than per row."""
    return {value: str(label) for value, label in PRICE_TYPE_LABELS.items()}


BOARD_COLUMNS = [
    "commodity_code",
    "commodity_vi",
    "commodity_en",
    "category",
    "market_code",
    "market_name",
    "province_code",
    "price_type",
    "unit",
    "currency",
    "date",
    "price",
    "price_min",
    "price_max",
    "previous_date",
    "previous_price",
    "change_previous_pct",
    "change_7d_pct",
    "change_30d_pct",
    "change_365d_pct",
    "anomaly_method",
    "anomaly_level",
    "anomaly_value",
    "data_quality",
    "source",
]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@bp.get("/prices.csv")
def board_csv():
    rows = []
    for entry in series.board(**_filters(), per_commodity=10_000, sparks=False):
        for s in entry.series:
            rows.append(
                [
                    s.commodity.code,
                    s.commodity.name_vi,
                    s.commodity.name_en,
                    s.commodity.category,
                    s.market.code,
                    s.market.name,
                    s.market.province_code or "",
                    s.price_type,
                    s.unit_code,
                    s.currency,
                    s.last_on.isoformat(),
                    s.last_price,
                    s.last_min,
                    s.last_max,
                    s.prev_on.isoformat() if s.prev_on else "",
                    s.prev_price,
                    _round(s.change(s.prev_price)),
                    _round(s.change(s.price_7d)),
                    _round(s.change(s.price_30d)),
                    _round(s.change(s.price_365d)),
                    s.anomaly_method or "",
                    s.anomaly_level or "",
                    _round(s.anomaly_value),
                    _round(s.anomaly_quality),
                    s.last_source.name if s.last_source else "",
                ]
            )
    return file_response(history.to_csv(BOARD_COLUMNS, rows), f"gia-nong-san-{date.today()}.csv")


def _commodity_or_404(code: str) -> Commodity:
    return catalogue.commodity_by_code(code) or abort(404)


def _selection(commodity: Commodity) -> dict:
    """What the commodity page shows: one price type and unit, some markets, a period."""
    all_series = series.series_of(commodity.id)
    types = list(dict.fromkeys(s.price_type for s in all_series))
    price_type = request.args.get("type")
    if price_type not in types:
        price_type = types[0] if types else None
    of_type = [s for s in all_series if s.price_type == price_type]
    chosen_ids = request.args.getlist("market", type=int)
    chosen = [s for s in of_type if s.market_id in chosen_ids] or of_type[:4]
    unit = chosen[0].unit_code if chosen else commodity.default_unit_code
    currency = chosen[0].currency if chosen else "VND"
    chosen = [s for s in chosen if s.unit_code == unit and s.currency == currency]
    period = request.args.get("period", "1y")
    if period not in history.PERIODS:
        period = "1y"
    grain = request.args.get("grain") or history.default_grain(period)
    if grain not in history.GRAINS:
        grain = history.default_grain(period)
    return {
        "all_series": all_series,
        "types": types,
        "price_type": price_type,
        "of_type": of_type,
        "chosen": chosen,
        "unit": unit,
        "currency": currency,
        "period": period,
        "grain": grain,
    }


def _rows(commodity: Commodity, sel: dict) -> list[history.HistoryRow]:
    if not sel["price_type"]:
        return []
    return history.history(
        commodity=commodity,
        price_type=sel["price_type"],
        unit_code=sel["unit"],
        currency=sel["currency"],
        market_ids=[s.market_id for s in sel["chosen"]],
        period=sel["period"],
        grain=sel["grain"],
    )


@bp.get("/prices/<code>")
def commodity(code: str):
    commodity = _commodity_or_404(code)
    return cached_page(
        PAGES,
        version=series.data_version,
        args=COMMODITY_ARGS,
        render=lambda: render_template(
            "prices/commodity.html",
            name=commodity.name(current_locale()),
            body=cached_fragment(
                PAGES,
                version=series.data_version,
                render=lambda: _commodity_body(commodity),
                args=COMMODITY_ARGS,
            ),
        ),
    )


def _commodity_body(commodity: Commodity) -> str:
    sel = _selection(commodity)
    rows = _rows(commodity, sel)
    lines = []
    for s in sel["chosen"]:
        points = [
            (r.start, float(r.mean), float(r.low), float(r.high))
            for r in rows
            if r.market.id == s.market_id
        ]
        lines.append(charts.Line(label=s.market.name, points=points))
    name = commodity.name(current_locale())
    unit = f"{sel['currency']}/{sel['unit']}"
    chart = charts.line_chart(
        lines,
        title=_("%(commodity)s, %(unit)s", commodity=name, unit=unit),
        number=lambda v: format_number(v, 0),
        day=format_day,
    )
    from market.prices.services import recent_observations

    observations = recent_observations(
        commodity_id=commodity.id,
        market_ids=[s.market_id for s in sel["chosen"]],
        price_type=sel["price_type"],
        limit=50,
    )
    return render_template(
        "prices/_commodity.html",
        commodity=commodity,
        name=name,
        sel=sel,
        rows=rows,
        chart=chart,
        lines=lines,
        observations=observations,
        periods=history.PERIODS,
        grains=history.GRAINS,
        price_types=PRICE_TYPE_LABELS,
        download_args={k: request.args.getlist(k) for k in COMMODITY_ARGS if k in request.args},
        type_names=_type_names(),
    )


@bp.get("/prices/<code>.<any(csv, xlsx):kind>")
def commodity_download(code: str, kind: str):
    commodity = _commodity_or_404(code)
    sel = _selection(commodity)
    table = history.history_table(
        _rows(commodity, sel),
        commodity=commodity,
        price_type=sel["price_type"] or "",
        unit_code=sel["unit"],
        currency=sel["currency"],
        grain=sel["grain"],
    )
    filename = f"gia-{commodity.code}-{sel['period']}-{sel['grain']}.{kind}"
    if kind == "csv":
        return file_response(history.to_csv(history.HISTORY_COLUMNS, table), filename)
    return file_response(
        history.to_xlsx(history.HISTORY_COLUMNS, table, sheet=commodity.code), filename
    )


# A user's price alerts --------------------------------------------------------------------


@bp.route("/account/price-alerts", methods=["GET", "POST"])
@login_required
def alerts():
    from market.prices import alerts as price_alerts
    from market.prices.forms import AlertRuleForm

    form = AlertRuleForm()
    form.commodity_id.choices = options(
        [("", "—")] + [(c.id, catalogue.commodity_label(c)) for c in catalogue.commodities()]
    )
    form.market_id.choices = options(
        [("", _("Any market"))] + [(m.id, m.name) for m in series.markets_with_prices()]
    )
    if request.method == "GET" and request.args.get("commodity"):
        wanted = catalogue.commodity_by_code(request.args["commodity"])
        form.commodity_id.data = wanted.id if wanted else None
    if form.validate_on_submit():
        try:
            price_alerts.add_rule(
                actor=current_user,
                commodity_id=form.commodity_id.data,
                market_id=form.market_id.data,
                kind=form.kind.data,
                threshold=form.threshold_value,
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            flash(_("The alert is saved. We will e-mail you when it happens."), "success")
            return redirect(url_for("prices.alerts"))
    return render_template(
        "prices/alerts.html",
        form=form,
        rules=price_alerts.rules_of(current_user),
        kinds=price_alerts.RULE_KINDS,
    )


@bp.post("/account/price-alerts/<int:rule_id>/delete")
@login_required
def delete_alert(rule_id: int):
    from market.prices import alerts as price_alerts
    from market.prices.models import PriceAlertRule

    alert_rule = db.session.get(PriceAlertRule, rule_id) or abort(404)
    price_alerts.remove_rule(actor=current_user, alert_rule=alert_rule)
    db.session.commit()
    flash(_("The alert is removed."), "info")
    return redirect(url_for("prices.alerts"))
