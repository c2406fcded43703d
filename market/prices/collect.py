"""Collecting one price source: fetch, read, normalise, resolve names, store, record the run.

Each run is recorded in ``CollectionRun`` whatever happens: a hostile page (truncated, huge,
wrongly encoded, erroring, looping) ends in a failed or partial run with its reason, never in
a crash, and never touches other sources. Prices are stored in one transaction per run.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select

from market.db import utcnow
from market.extensions import db
from market.prices.fetch import Fetcher
from market.prices.models import CollectionRun, HeldPrice, PriceSource, UnmappedName
from market.prices.names import NameIndex, note_unmapped
from market.prices.normalise import NormalisedPrice, normalise_collected
from market.prices.services import price_batch, record_price
from market.prices.sources import get_adapter
from market.prices.sources.base import Collected

log = logging.getLogger(__name__)
MAX_DETAILS = 200  # rejected rows kept on a run for its page


def make_fetcher(source: PriceSource) -> Fetcher:
    config = current_app.config
    return Fetcher(
        user_agent=f"QuangTriMarketBot/1.0 (+{config['MARKET_BASE_URL']})",
        timeout=(5, config["MARKET_FETCH_TIMEOUT_SECONDS"]),
        retries=config["MARKET_FETCH_RETRIES"],
        backoff=config["MARKET_FETCH_BACKOFF_SECONDS"],
        delay=config["MARKET_FETCH_DELAY_SECONDS"],
        max_bytes=config["MARKET_FETCH_MAX_BYTES"],
        respect_robots=source.respect_robots,
    )


def _payload(price: NormalisedPrice, *, price_type: str, source_url: str | None) -> dict[str, Any]:
    data = asdict(price)
    for key, value in data.items():
        if isinstance(value, Decimal):
            data[key] = str(value)
        elif isinstance(value, date):
            data[key] = value.isoformat()
    data["price_type"] = price_type
    data["source_url"] = source_url
    return data


def _from_payload(data: dict[str, Any]) -> tuple[NormalisedPrice, str, str | None]:
    values = dict(data)
    price_type = values.pop("price_type")
    source_url = values.pop("source_url", None)
    for key in ("price", "price_min", "price_max", "change"):
        if values.get(key) is not None:
            values[key] = Decimal(values[key])
    values["observed_on"] = date.fromisoformat(values["observed_on"])
    return NormalisedPrice(**values, price_type=price_type), price_type, source_url


def collect_source(
    *, source: PriceSource, today: date | None = None, fetcher: Fetcher | None = None
) -> CollectionRun:
    """Run one source now and return its run record (committed, whatever the outcome).

    No transaction is open while the pages are fetched (seconds to minutes, with the polite
    delays): on SQLite an open writing transaction would hold every other writer back."""
    today = today or date.today()
    run = CollectionRun(source_id=source.id, status="running", started_at=utcnow())
    db.session.add(run)
    db.session.flush()
    run_id, source_id = run.id, source.id
    kind, url, settings = source.kind, source.url, dict(source.settings or {})
    own_fetcher = fetcher is None
    fetcher = fetcher or make_fetcher(source)
    db.session.commit()
    try:
        adapter = get_adapter(kind)
        try:
            collected = adapter.collect(fetcher=fetcher, url=url, settings=settings, today=today)
        finally:
            if own_fetcher:
                fetcher.close()
        _store(db.session.get(CollectionRun, run_id), source, collected, today)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.warning("source %s failed: %s", source_id, exc)
        run = db.session.get(CollectionRun, run_id)
        run.status = "failed"
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        run.details = {"traceback": traceback.format_exc(limit=5)[-4000:]}
        run.finished_at = utcnow()
        db.session.commit()
    return db.session.get(CollectionRun, run_id)


def _store(run: CollectionRun, source: PriceSource, collected: Collected, today: date) -> None:
    """Normalise and store what a source gave, and record the counts on its run."""
    prices, rejections = normalise_collected(collected, today=today)
    run.pages = len(collected.pages)
    run.parsed = len(prices)
    run.rejected = len(rejections)
    page_url = collected.pages[-1] if collected.pages else source.url
    counts = store_prices(source=source, prices=prices, run_id=run.id, source_url=page_url)
    run.stored, run.updated, run.unchanged = (
        counts["stored"],
        counts["updated"],
        counts["unchanged"],
    )
    run.flagged, run.unmapped = counts["flagged"], counts["unmapped"]
    run.rejected += counts["rejected"]
    warnings = list(collected.result.warnings)
    if not prices and not rejections and not collected.result.empty:
        # Not the page's own "no data" message: a cut-off page or a changed layout.
        warnings.append("the page gave no price rows")
    problems = run.rejected or run.unmapped or warnings
    run.status = "partial" if problems else "ok"
    run.details = {
        "pages": collected.pages[:50],
        "warnings": warnings[:50],
        "empty": collected.result.empty,
        "rejected": [
            {"row": r.row_number, "raw": r.raw[:300], "reason": r.reason}
            for r in [*rejections, *counts["rejections"]][:MAX_DETAILS]
        ],
    }
    run.finished_at = utcnow()


def store_prices(
    *,
    source: PriceSource,
    prices: list[NormalisedPrice],
    run_id: int | None,
    source_url: str | None,
) -> dict[str, Any]:
    """Resolve names and store each price; unknown names are noted and their prices held."""
    from flask_babel import gettext as _

    from market.prices.sources.base import Rejection

    index = NameIndex.load()
    counts: dict[str, Any] = dict.fromkeys(
        ("stored", "updated", "unchanged", "flagged", "unmapped", "rejected"), 0
    )
    counts["rejections"] = []
    with price_batch() as doubts:
        for price in prices:
            if not price.market_name:
                counts["rejected"] += 1
                counts["rejections"].append(
                    Rejection(
                        price.row_number,
                        price.raw_text,
                        _("no market given on the row or in settings"),
                    )
                )
                continue
            price_type = price.price_type or source.default_price_type or "wholesale"
            commodity_id = index.commodity(price.commodity_name)
            market_id = index.market(price.market_name)
            if commodity_id is None or market_id is None:
                held = HeldPrice(
                    source_id=source.id,
                    run_id=run_id,
                    payload=_payload(price, price_type=price_type, source_url=source_url),
                )
                if commodity_id is None:
                    held.commodity_name_id = note_unmapped(
                        index, kind="commodity", name=price.commodity_name, source_id=source.id
                    ).id
                if market_id is None:
                    held.market_name_id = note_unmapped(
                        index, kind="market", name=price.market_name, source_id=source.id
                    ).id
                db.session.add(held)
                counts["unmapped"] += 1
                continue
            outcome = record_price(
                source=source,
                commodity_id=commodity_id,
                market_id=market_id,
                price=price,
                price_type=price_type,
                doubts=doubts,
                run_id=run_id,
                source_url=source_url,
            )
            counts[outcome] += 1
    return counts


def release_held(*, name: UnmappedName) -> int:
    """Store the held prices whose names are now all known; returns how many were stored."""
    column = HeldPrice.commodity_name_id if name.kind == "commodity" else HeldPrice.market_name_id
    held = list(db.session.scalars(select(HeldPrice).where(column == name.id)))
    if not held:
        return 0
    index = NameIndex.load()
    stored = 0
    with price_batch() as doubts:
        for row in held:
            price, price_type, source_url = _from_payload(row.payload)
            commodity_id = index.commodity(price.commodity_name)
            market_id = index.market(price.market_name)
            if commodity_id is None or market_id is None:
                continue  # the other name is still unknown; it stays held
            source = db.session.get(PriceSource, row.source_id)
            record_price(
                source=source,
                commodity_id=commodity_id,
                market_id=market_id,
                price=price,
                price_type=price_type,
                doubts=doubts,
                run_id=row.run_id,
                source_url=source_url,
            )
            db.session.delete(row)
            stored += 1
    return stored


def sources_to_collect(*, only: str | None = None) -> list[PriceSource]:
    """Every enabled web source, or the one named (enabled or not: asked for by name)."""
    stmt = select(PriceSource).where(
        PriceSource.kind.notin_(("manual", "import")), PriceSource.enabled.is_(True)
    )
    if only:
        stmt = select(PriceSource).where(PriceSource.name == only)
    return list(db.session.scalars(stmt.order_by(PriceSource.name)))


def collect_all(*, today: date | None = None, only: str | None = None) -> list[CollectionRun]:
    """Run every enabled source (or the one named); one failing never stops the others."""
    return [collect_source(source=s, today=today) for s in sources_to_collect(only=only)]


def _waiting() -> tuple:
    return (
        UnmappedName.commodity_id.is_(None),
        UnmappedName.market_id.is_(None),
        UnmappedName.ignored.is_(False),
    )


def unmapped_names(*, actor) -> list[tuple[UnmappedName, int]]:
    """The names waiting for an official, most seen first, each with how many prices wait."""
    from market.permissions import require

    require(actor, "review", "prices")
    held = (
        select(func.count(HeldPrice.id))
        .where(
            or_(
                HeldPrice.commodity_name_id == UnmappedName.id,
                HeldPrice.market_name_id == UnmappedName.id,
            )
        )
        .correlate(UnmappedName)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(UnmappedName, held).where(*_waiting()).order_by(UnmappedName.seen_count.desc())
    )
    return [(name, count) for name, count in rows]


def count_unmapped() -> int:
    return db.session.scalar(select(func.count(UnmappedName.id)).where(*_waiting())) or 0


def map_name(
    *, actor, name: UnmappedName, commodity_id: int | None = None, market_id: int | None = None
) -> int:
    """Remember what a printed name means and store the prices held for it."""
    from flask_babel import gettext as _

    from market.audit.services import record
    from market.catalogue.models import Commodity, Market
    from market.errors import DomainError
    from market.permissions import require

    require(actor, "review", "prices")
    if name.kind == "commodity":
        if commodity_id is None or db.session.get(Commodity, commodity_id) is None:
            raise DomainError(_("Choose a commodity from the list."), field="commodity_id")
        name.commodity_id = commodity_id
    else:
        if market_id is None or db.session.get(Market, market_id) is None:
            raise DomainError(_("Choose a market from the list."), field="market_id")
        name.market_id = market_id
    name.mapped_by_id = actor.id
    name.mapped_at = utcnow()
    db.session.flush()
    stored = release_held(name=name)
    record(
        actor=actor,
        action="price_name.mapped",
        subject=name,
        subject_type="unmapped_name",
        detail={
            "kind": name.kind,
            "commodity_id": commodity_id,
            "market_id": market_id,
            "released": stored,
        },
    )
    return stored
