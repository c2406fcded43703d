"""Prices: storing observations with their history, doubt checks, review, manual entry and
the price sources' settings and health."""

from __future__ import annotations

import statistics
import tomllib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from market.accounts.models import User
from market.audit.services import describe_actions, record
from market.catalogue.models import Commodity, Market, Unit
from market.db import utcnow
from market.errors import DomainError
from market.extensions import db
from market.permissions import require, rule
from market.prices.models import (
    CollectionRun,
    PriceObservation,
    PriceRevision,
    PriceSource,
)
from market.prices.normalise import NormalisedPrice, round_price
from market.prices.series import refresh_many
from market.site.i18n import format_number
from market.text import NumberFormatError, parse_range

PRICE_TYPE_LABELS = {
    "farm_gate": _l("Farm-gate"),
    "wholesale": _l("Wholesale"),
    "retail": _l("Retail"),
    "export": _l("Export"),
}
SOURCE_KINDS = ("html_table", "agro_mae", "csv", "xlsx")
FAILURES_BEFORE_UNHEALTHY = 3
MAD_LIMIT = 3  # median absolute deviations before a price is doubtful
MIN_HISTORY = 5  # observations needed before judging a price against its series

describe_actions(
    {
        "price.entered": _l("Price entered by hand"),
        "price.confirmed": _l("Doubtful price confirmed"),
        "price.rejected": _l("Doubtful price rejected"),
        "price.imported": _l("Prices imported from a file"),
        "price_source.saved": _l("Price source saved"),
        "price_name.mapped": _l("Source name mapped"),
    }
)


@rule("review", "prices")
def _can_review(user: User | None, _subject: Any) -> bool:
    return user is not None and user.is_official


@rule("manage", "price_sources")
def _can_manage_sources(user: User | None, _subject: Any) -> bool:
    return user is not None and user.is_admin


# Storing observations ---------------------------------------------------------------------


@dataclass
class Doubts:
    """The recent history each price is judged against, loaded once per series and run."""

    cache: dict[tuple[int, int | None, str, str], list[Decimal]] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    # Series whose summary must be refreshed once the prices are stored.
    touched: set[tuple[int, int, str, str, str]] = field(default_factory=set)
    # Price alert rules by commodity, loaded once per run.
    alert_rules: dict[int, list] = field(default_factory=dict)
    default_units: dict[int, str] = field(default_factory=dict)

    def base_unit_of(self, commodity_id: int) -> str | None:
        if not self.units:
            self.units = {u.code: u for u in db.session.scalars(select(Unit))}
            self.default_units = dict(
                db.session.execute(select(Commodity.id, Commodity.default_unit_code)).all()
            )
        unit = self.units.get(self.default_units.get(commodity_id, ""))
        return unit.base_unit if unit and unit.factor_to_base is not None else None

    def recent(
        self,
        *,
        commodity_id: int,
        market_id: int | None,
        price_type: str,
        unit_code: str,
        before: date,
    ) -> list[Decimal]:
        key = (commodity_id, market_id, price_type, unit_code)
        if key not in self.cache:
            stmt = (
                select(PriceObservation.price)
                .where(
                    PriceObservation.commodity_id == commodity_id,
                    PriceObservation.price_type == price_type,
                    PriceObservation.unit_code == unit_code,
                    PriceObservation.status == "ok",
                    PriceObservation.observed_on < before,
                    PriceObservation.observed_on >= before - timedelta(days=120),
                )
                .order_by(PriceObservation.observed_on.desc())
                .limit(30)
            )
            if market_id is not None:
                stmt = stmt.where(PriceObservation.market_id == market_id)
            self.cache[key] = list(db.session.scalars(stmt))
        return self.cache[key]

    def reason(
        self,
        *,
        commodity_id: int,
        market_id: int,
        price_type: str,
        unit_code: str,
        price: Decimal,
        observed_on: date,
    ) -> str | None:
        """Why a price is doubtful, or None: translated into the current locale (Vietnamese in
        jobs) with its numbers formatted for it, as stored in ``flag_reason`` and shown on the
        review page and the import preview."""
        base = self.base_unit_of(commodity_id)
        if base and unit_code != base:
            return _(
                "the unit %(unit)s does not fit a commodity priced per %(base)s",
                unit=unit_code,
                base=base,
            )
        history = self.recent(
            commodity_id=commodity_id,
            market_id=market_id,
            price_type=price_type,
            unit_code=unit_code,
            before=observed_on,
        )
        if len(history) < MIN_HISTORY:
            history = self.recent(
                commodity_id=commodity_id,
                market_id=None,
                price_type=price_type,
                unit_code=unit_code,
                before=observed_on,
            )
        if len(history) < MIN_HISTORY:
            return None
        median = statistics.median(history)
        mad = statistics.median(abs(p - median) for p in history)
        # A flat series has a MAD of 0: allow 2 % of the median as the smallest spread.
        spread = max(mad * Decimal("1.4826"), median * Decimal("0.02"))
        distance = abs(price - median) / spread if spread else Decimal(0)
        if distance > MAD_LIMIT:

            def amount(value: Decimal) -> str:
                return format_number(value, 0) if abs(value) >= 100 else format_number(value)

            return _(
                "%(price)s is %(distance)s MADs from the recent median %(median)s",
                price=amount(price),
                distance=format_number(distance, 1),
                median=amount(median),
            )
        return None


@contextmanager
def price_batch() -> Iterator[Doubts]:
    """The state for storing a batch of prices with ``record_price``. When the batch ends, the
    summaries of the series it touched are refreshed: every way a price comes in (collection,
    released held prices, manual entry, import) reaches the board, the API and the alerts'
    weekly changes the same way."""
    doubts = Doubts()
    yield doubts
    db.session.flush()
    refresh_many(doubts.touched)


def find_observation(
    *, source_id: int, commodity_id: int, market_id: int, price_type: str, observed_on: date
) -> PriceObservation | None:
    """The one observation a source may have for a series on a day (the unique key)."""
    return db.session.scalar(
        select(PriceObservation).where(
            PriceObservation.source_id == source_id,
            PriceObservation.commodity_id == commodity_id,
            PriceObservation.market_id == market_id,
            PriceObservation.price_type == price_type,
            PriceObservation.observed_on == observed_on,
        )
    )


def is_unchanged(existing: PriceObservation | None, price: NormalisedPrice) -> bool:
    """Whether a price read again is the one stored: the same figures, unit and currency."""
    return existing is not None and (
        price.price,
        price.price_min,
        price.price_max,
        price.unit_code,
        price.currency,
    ) == (
        existing.price,
        existing.price_min,
        existing.price_max,
        existing.unit_code,
        existing.currency,
    )


def record_price(
    *,
    source: PriceSource,
    commodity_id: int,
    market_id: int,
    price: NormalisedPrice,
    price_type: str,
    doubts: Doubts,
    run_id: int | None = None,
    source_url: str | None = None,
    entered_by: User | None = None,
    trust: bool = False,
) -> str:
    """Store one price; returns stored | updated | unchanged | flagged.

    The same (source, commodity, market, type, day) again changes nothing when the value is the
    same; a different value updates the row and keeps the old value as a revision.
    """
    existing = find_observation(
        source_id=source.id,
        commodity_id=commodity_id,
        market_id=market_id,
        price_type=price_type,
        observed_on=price.observed_on,
    )
    doubts.touched.add((commodity_id, market_id, price_type, price.unit_code, price.currency))
    if existing is not None:
        doubts.touched.add(
            (commodity_id, market_id, price_type, existing.unit_code, existing.currency)
        )
    if is_unchanged(existing, price):
        return "unchanged"
    doubt = (
        None
        if trust
        else doubts.reason(
            commodity_id=commodity_id,
            market_id=market_id,
            price_type=price_type,
            unit_code=price.unit_code,
            price=price.price,
            observed_on=price.observed_on,
        )
    )
    if existing is None:
        existing = PriceObservation(
            source_id=source.id,
            commodity_id=commodity_id,
            market_id=market_id,
            price_type=price_type,
            observed_on=price.observed_on,
        )
        db.session.add(existing)
        outcome = "stored"
    else:
        db.session.add(
            PriceRevision(
                observation=existing,
                price=existing.price,
                price_min=existing.price_min,
                price_max=existing.price_max,
                unit_code=existing.unit_code,
                raw_text=existing.raw_text,
                run_id=run_id,
                changed_by_id=entered_by.id if entered_by else None,
            )
        )
        outcome = "updated"
    existing.price, existing.price_min, existing.price_max = (
        price.price,
        price.price_min,
        price.price_max,
    )
    existing.unit_code, existing.currency = price.unit_code, price.currency
    existing.change = price.change
    existing.raw_text = (price.raw_text or "")[:1000] or None
    existing.source_url = source_url
    existing.fetched_at = utcnow()
    existing.run_id = run_id
    existing.entered_by_id = entered_by.id if entered_by else None
    existing.status = "flagged" if doubt else "ok"
    existing.flag_reason = doubt
    existing.reviewed_by_id = existing.reviewed_at = None
    if existing.status == "ok":
        from market.prices.alerts import check_observation

        db.session.flush()
        check_observation(existing, doubts.alert_rules)
        # Later prices in this run are judged against this one too: its own market's history
        # and the all-markets one, not other markets'.
        for (c, m, t, u), series in doubts.cache.items():
            if (c, t, u) == (commodity_id, price_type, price.unit_code) and m in (market_id, None):
                series.insert(0, price.price)
    return "flagged" if doubt else outcome


# Review ---------------------------------------------------------------------------------------


# "!= 'ok'" repeats the partial index's condition, so that SQLite (which cannot infer it from
# "= 'flagged'") uses the index of unpublished rows instead of scanning every price.
UNPUBLISHED = (PriceObservation.status != "ok",)


def flagged_observations(*, actor: User, limit: int = 200) -> list[PriceObservation]:
    require(actor, "review", "prices")
    return list(
        db.session.scalars(
            select(PriceObservation)
            .where(*UNPUBLISHED, PriceObservation.status == "flagged")
            .order_by(PriceObservation.observed_on.desc(), PriceObservation.id)
            .limit(limit)
        )
    )


def count_flagged() -> int:
    return (
        db.session.scalar(
            select(func.count(PriceObservation.id)).where(
                *UNPUBLISHED, PriceObservation.status == "flagged"
            )
        )
        or 0
    )


def review_observation(
    *, actor: User, observation: PriceObservation, accept: bool, reason: str | None = None
) -> None:
    """Publish a doubtful price, or reject it (with a reason) so it is never shown."""
    require(actor, "review", "prices")
    reason = (reason or "").strip() or None
    if not accept and not reason:
        raise DomainError(_("Say why the price is rejected."), field="reason")
    observation.status = "ok" if accept else "rejected"
    observation.reviewed_by_id = actor.id
    observation.reviewed_at = utcnow()
    db.session.flush()
    from market.prices.alerts import check_observation
    from market.prices.series import key_of, refresh_series

    refresh_series(key_of(observation))
    if accept:
        check_observation(observation, {})
    record(
        actor=actor,
        action="price.confirmed" if accept else "price.rejected",
        subject=observation,
        subject_type="price_observation",
        reason=reason or observation.flag_reason,
        detail={"price": str(observation.price), "commodity": observation.commodity.code},
    )
    db.session.flush()


def recent_observations(
    *, commodity_id: int, market_ids: list[int], price_type: str | None, limit: int = 50
) -> list[PriceObservation]:
    """Published observations with their provenance, newest first."""
    if not market_ids or not price_type:
        return []
    return list(
        db.session.scalars(
            select(PriceObservation)
            .where(
                PriceObservation.commodity_id == commodity_id,
                PriceObservation.market_id.in_(market_ids),
                PriceObservation.price_type == price_type,
                PriceObservation.status == "ok",
            )
            .order_by(PriceObservation.observed_on.desc(), PriceObservation.id.desc())
            .limit(limit)
        )
    )


def get_observation(observation_id: int) -> PriceObservation | None:
    return db.session.get(PriceObservation, observation_id)


# Manual entry ----------------------------------------------------------------------------------


def builtin_source(kind: str) -> PriceSource:
    """The pseudo-source that hand-entered ("manual") or imported ("import") prices belong to."""
    names = {"manual": "Nhập tay (Sở Công Thương)", "import": "Nhập từ tệp (Sở Công Thương)"}
    source = db.session.scalar(select(PriceSource).where(PriceSource.kind == kind))
    if source is None:
        source = PriceSource(name=names[kind], kind=kind, enabled=False, settings={})
        db.session.add(source)
        db.session.flush()
    return source


def price_per_base_unit(*, text: str, unit_code: str) -> tuple[Decimal, Decimal, Decimal, Unit]:
    """Read "64.800", "64.800 - 64.900" or "1,2 triệu" per ``unit_code`` into base-unit prices."""
    unit = db.session.get(Unit, unit_code)
    if unit is None:
        raise DomainError(_("Choose a unit from the list."), field="unit_code")
    try:
        low_high = parse_range(text)
    except (NumberFormatError, ValueError) as exc:
        raise DomainError(
            _("Write the price as a number, e.g. 64.800 or 64.800 - 65.000."), field="price"
        ) from exc
    if low_high.low <= 0:
        raise DomainError(_("The price must be more than zero."), field="price")
    factor = unit.factor_to_base or Decimal(1)

    low, high = round_price(low_high.low / factor), round_price(low_high.high / factor)
    return round_price((low + high) / 2), low, high, db.session.get(Unit, unit.priced_per) or unit


def enter_price(
    *,
    actor: User,
    commodity_id: int,
    market_id: int,
    price_type: str,
    price_text: str,
    unit_code: str,
    observed_on: date,
    today: date | None = None,
) -> tuple[PriceObservation, str | None]:
    """An official's own price; returns the observation and a doubt to show them, if any."""
    require(actor, "review", "prices")
    today = today or date.today()
    commodity = db.session.get(Commodity, commodity_id)
    market = db.session.get(Market, market_id)
    if commodity is None:
        raise DomainError(_("Choose a commodity from the list."), field="commodity_id")
    if market is None:
        raise DomainError(_("Choose a market from the list."), field="market_id")
    if price_type not in PRICE_TYPE_LABELS:
        raise DomainError(_("Choose a price type."), field="price_type")
    if observed_on > today:
        raise DomainError(_("The date cannot be in the future."), field="observed_on")
    mid, low, high, unit = price_per_base_unit(text=price_text, unit_code=unit_code)
    normalised = NormalisedPrice(
        commodity_name=commodity.name_vi,
        market_name=market.name,
        price_type=price_type,
        price=mid,
        price_min=low,
        price_max=high,
        unit_code=unit.code,
        currency="VND",
        observed_on=observed_on,
        change=None,
        raw_text=f"{price_text} đ/{unit_code}",
    )
    source = builtin_source("manual")
    with price_batch() as doubts:
        doubt = doubts.reason(
            commodity_id=commodity.id,
            market_id=market.id,
            price_type=price_type,
            unit_code=unit.code,
            price=mid,
            observed_on=observed_on,
        )
        record_price(
            source=source,
            commodity_id=commodity.id,
            market_id=market.id,
            price=normalised,
            price_type=price_type,
            doubts=doubts,
            entered_by=actor,
            trust=True,
        )
    observation = find_observation(
        source_id=source.id,
        commodity_id=commodity.id,
        market_id=market.id,
        price_type=price_type,
        observed_on=observed_on,
    )
    record(
        actor=actor,
        action="price.entered",
        subject=observation,
        subject_type="price_observation",
        detail={"commodity": commodity.code, "market": market.name, "price": str(mid)},
    )
    return observation, doubt


# Sources -------------------------------------------------------------------------------------


def sources(*, include_builtin: bool = False) -> list[PriceSource]:
    stmt = select(PriceSource).order_by(PriceSource.name)
    if not include_builtin:
        stmt = stmt.where(PriceSource.kind.in_(SOURCE_KINDS))
    return list(db.session.scalars(stmt))


def get_source(*, name: str | None = None, source_id: int | None = None) -> PriceSource | None:
    if source_id is not None:
        return db.session.get(PriceSource, source_id)
    return db.session.scalar(select(PriceSource).where(PriceSource.name == name))


def _check_source(data: dict[str, Any]) -> None:
    from apscheduler.triggers.cron import CronTrigger

    if data.get("kind") not in SOURCE_KINDS:
        raise DomainError(
            _("Unknown kind of source. Known kinds: %(kinds)s.", kinds=", ".join(SOURCE_KINDS)),
            field="kind",
        )
    if not data.get("url"):
        raise DomainError(_("A source needs a URL."), field="url")
    if data.get("schedule"):
        try:
            CronTrigger.from_crontab(data["schedule"])
        except ValueError as exc:
            raise DomainError(
                _("The schedule is not a cron expression (minute hour day month weekday)."),
                field="schedule",
            ) from exc
    if data.get("default_price_type") not in (None, "", *PRICE_TYPE_LABELS):
        raise DomainError(_("Choose a price type."), field="default_price_type")
    if not isinstance(data.get("settings", {}), dict):
        raise DomainError(
            _("Adapter settings must be a table of keys and values."), field="settings"
        )


SOURCE_FIELDS = (
    "kind",
    "url",
    "schedule",
    "settings",
    "enabled",
    "respect_robots",
    "default_price_type",
    "description",
)


def save_source(*, actor: User | None, name: str, **data: Any) -> tuple[PriceSource, bool]:
    """Create or update a source by name; returns it and whether it was new."""
    if actor is not None:
        require(actor, "manage", "price_sources")
    name = (name or "").strip()
    if not name:
        raise DomainError(_("A source needs a name."), field="name")
    clean = {k: data[k] for k in SOURCE_FIELDS if k in data}
    clean.setdefault("settings", {})
    _check_source(clean)
    source = get_source(name=name)
    created = source is None
    if created:
        source = PriceSource(name=name)
        db.session.add(source)
    for key, value in clean.items():
        setattr(source, key, value if value != "" else None)
    db.session.flush()
    if actor is not None:
        record(
            actor=actor, action="price_source.saved", subject=source, detail={"created": created}
        )
    return source, created


def load_sources(path: Path) -> list[tuple[str, str]]:
    """Load sources from a TOML file (``[[source]]`` tables); idempotent, updates by name."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DomainError(f"{path}: {exc}") from exc
    results = []
    for index, entry in enumerate(document.get("source", []), start=1):
        entry = dict(entry)
        name = entry.pop("name", "")
        try:
            source, created = save_source(actor=None, name=name, **entry)
        except DomainError as error:
            raise DomainError(f"{path}, source {index} ({name or '?'}): {error.message}") from error
        results.append((source.name, "added" if created else "updated"))
    return results


@dataclass
class Health:
    ok: bool
    label: str
    detail: str = ""


def source_health(source: PriceSource, runs: Iterable[CollectionRun] | None = None) -> Health:
    """Unhealthy after repeated failures, or when a page that gave rows gives none (a layout
    change usually looks like that: the page loads, the table is gone)."""
    recent = list(runs if runs is not None else source.runs.limit(10))
    finished = [r for r in recent if r.status != "running"]
    if not finished:
        return Health(True, str(_l("not run yet")))
    failures = 0
    for run in finished:
        if run.status != "failed":
            break
        failures += 1
    if failures >= FAILURES_BEFORE_UNHEALTHY:
        return Health(False, str(_l("failing")), finished[0].error or "")
    last = finished[0]
    if (
        last.status != "failed"
        and last.rows_found == 0
        and any(r.rows_found > 0 for r in finished[1:])
    ):
        return Health(
            False,
            str(_l("no rows any more")),
            str(_l("The page gave rows before and gives none now: has its layout changed?")),
        )
    if last.status == "failed":
        return Health(True, str(_l("last run failed")), last.error or "")
    return Health(True, str(_l("healthy")))


def request_collection(*, actor: User, source: PriceSource) -> None:
    """Ask the scheduler to run a source now (it checks every 30 seconds)."""
    require(actor, "review", "prices")
    if not source.collected:
        raise DomainError(_("This source is not collected from the web."))
    if not source.enabled:
        raise DomainError(_("This source is switched off: switch it on to collect from it."))
    source.run_requested_at = utcnow()
    db.session.flush()


def requested_sources() -> list[PriceSource]:
    return list(
        db.session.scalars(select(PriceSource).where(PriceSource.run_requested_at.is_not(None)))
    )


def recent_runs(*, source: PriceSource | None = None, limit: int = 50) -> list[CollectionRun]:
    stmt = select(CollectionRun).order_by(CollectionRun.id.desc()).limit(limit)
    if source is not None:
        stmt = stmt.where(CollectionRun.source_id == source.id)
    return list(db.session.scalars(stmt))


def get_run(run_id: int) -> CollectionRun | None:
    return db.session.get(CollectionRun, run_id)


def markets() -> list[Market]:
    return list(
        db.session.scalars(select(Market).order_by(Market.kind != "province", Market.name_folded))
    )
