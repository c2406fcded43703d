"""Importing a CSV or XLSX file of prices: a preview of every row's fate, then all or nothing.

The uploaded file waits under the instance folder between the preview and the confirmation,
named by a random token; confirming re-reads it, so what is stored is exactly what was shown.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from market.accounts.models import User
from market.audit.services import record
from market.errors import DomainError
from market.extensions import db
from market.permissions import require
from market.prices.names import NameIndex
from market.prices.normalise import RowError, normalise
from market.prices.services import (
    Doubts,
    builtin_source,
    find_observation,
    is_unchanged,
    price_batch,
    record_price,
)
from market.prices.sources import tabular
from market.prices.sources.base import SourceError
from market.text import fold

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000

# Column headers we recognise (folded, exact), in Vietnamese and English.
HEADERS = {
    "commodity": ("mat hang", "ten mat hang", "hang hoa", "san pham", "commodity", "product"),
    "market": ("thi truong", "cho", "dia diem", "noi thu thap", "market", "place"),
    "price_type": ("loai gia", "price type", "type"),
    "price": ("gia", "don gia", "gia (dong)", "gia (d)", "price"),
    "unit": ("don vi", "don vi tinh", "dvt", "unit"),
    "date": ("ngay", "ngay gia", "ngay thu thap", "date"),
}
REQUIRED = ("commodity", "market", "price", "unit", "date")


@dataclass
class RowOutcome:
    row: int
    text: str
    outcome: str  # new | update | unchanged | flagged | rejected
    reason: str = ""  # translated when the preview is made
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Preview:
    token: str
    filename: str
    rows: list[RowOutcome]

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def accepted(self) -> int:
        return sum(1 for r in self.rows if r.outcome in ("new", "update", "flagged"))


def _folder() -> Path:
    folder = Path(current_app.config["MARKET_INSTANCE_PATH"]) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_upload(*, actor: User, data: bytes, filename: str) -> str:
    require(actor, "review", "prices")
    if not data:
        raise DomainError(_("The uploaded file is empty."), field="file")
    if len(data) > MAX_IMPORT_BYTES:
        raise DomainError(_("The file is too large (at most 5 MB)."), field="file")
    token = secrets.token_urlsafe(18)
    suffix = ".xlsx" if data.startswith(b"PK") else ".csv"
    (_folder() / f"{token}{suffix}").write_bytes(data)
    (_folder() / f"{token}.name").write_text(Path(filename).name[:200] or "prices")
    return token


def _load(token: str) -> tuple[bytes, str]:
    if not token or not token.replace("-", "").replace("_", "").isalnum():
        raise DomainError(_("This import has expired. Upload the file again."))
    for suffix in (".xlsx", ".csv"):
        path = _folder() / f"{token}{suffix}"
        if path.exists():
            name = _folder() / f"{token}.name"
            return path.read_bytes(), name.read_text() if name.exists() else path.name
    raise DomainError(_("This import has expired. Upload the file again."))


def _columns(headers: list[str]) -> dict[str, int]:
    folded = [fold(h) for h in headers]
    mapping: dict[str, int] = {}
    for field_name, names in HEADERS.items():
        for name in names:
            if name in folded:
                mapping[field_name] = folded.index(name)
                break
    missing = [f for f in REQUIRED if f not in mapping]
    if missing:
        raise DomainError(
            _(
                "The file needs the columns: Mặt hàng, Thị trường, Giá, Đơn vị, Ngày "
                "(and optionally Loại giá). Missing: %(missing)s.",
                missing=", ".join(missing),
            )
        )
    return mapping


def preview_import(*, actor: User, token: str, today: date | None = None) -> Preview:
    """Decide each row's outcome without storing anything."""
    require(actor, "review", "prices")
    today = today or date.today()
    data, filename = _load(token)
    try:
        table = tabular.read_table(data, {})
    except (SourceError, ValueError, OSError) as exc:
        raise DomainError(
            _("The file could not be read as CSV or XLSX: %(error)s", error=exc)
        ) from exc
    if not table:
        raise DomainError(_("The file has no rows."))
    if len(table) > MAX_ROWS:
        raise DomainError(_("The file has more than %(n)d rows; split it.", n=MAX_ROWS))
    headers = [tabular.cell_text(c) for c in table[0]]
    columns = _columns(headers)
    index = NameIndex.load()
    doubts = Doubts()
    source = builtin_source("import")
    outcomes: list[RowOutcome] = []
    seen: set[tuple] = set()
    for number, line in enumerate(table[1:], start=2):
        texts = [tabular.cell_text(c) for c in line]
        if not any(t.strip() for t in texts):
            continue
        text = " | ".join(texts)

        def cell(name: str, line=line) -> str | None:
            position = columns.get(name)
            if position is None or position >= len(line):
                return None
            if name == "date" and isinstance(line[position], date):
                return line[position].isoformat()
            return tabular.cell_text(line[position]) or None

        outcomes.append(_judge(number, text, cell, index, doubts, source, today, seen))
    return Preview(token=token, filename=filename, rows=outcomes)


def _judge(number, text, cell, index, doubts, source, today, seen) -> RowOutcome:
    from market.prices.sources.base import RawRow

    raw = RawRow(
        commodity=cell("commodity") or "",
        market=cell("market"),
        price_text=cell("price") or "",
        unit_text=cell("unit"),
        date_text=cell("date"),
        price_type_text=cell("price_type"),
        row_number=number,
        raw=text,
    )
    try:
        if not raw.commodity:
            raise RowError(_("no commodity name"))
        price = normalise(raw, today=today)
    except RowError as exc:
        return RowOutcome(number, text, "rejected", str(exc))
    commodity_id = index.commodity(price.commodity_name)
    market_id = index.market(price.market_name)
    if commodity_id is None:
        reason = _("unknown commodity “%(name)s”", name=price.commodity_name)
        return RowOutcome(number, text, "rejected", reason)
    if not price.market_name:
        return RowOutcome(number, text, "rejected", _("no market name"))
    if market_id is None:
        reason = _("unknown market “%(name)s”", name=price.market_name)
        return RowOutcome(number, text, "rejected", reason)
    price_type = price.price_type or "wholesale"
    key = (commodity_id, market_id, price_type, price.observed_on)
    if key in seen:
        reason = _("the same price appears earlier in the file")
        return RowOutcome(number, text, "rejected", reason)
    seen.add(key)
    existing = find_observation(
        source_id=source.id,
        commodity_id=commodity_id,
        market_id=market_id,
        price_type=price_type,
        observed_on=price.observed_on,
    )
    values = {
        "price": price,
        "commodity_id": commodity_id,
        "market_id": market_id,
        "price_type": price_type,
    }
    if is_unchanged(existing, price):
        return RowOutcome(number, text, "unchanged", values=values)
    doubt = doubts.reason(
        commodity_id=commodity_id,
        market_id=market_id,
        price_type=price_type,
        unit_code=price.unit_code,
        price=price.price,
        observed_on=price.observed_on,
    )
    if doubt:
        return RowOutcome(number, text, "flagged", doubt, values)
    return RowOutcome(number, text, "update" if existing else "new", values=values)


def commit_import(*, actor: User, token: str, today: date | None = None) -> Preview:
    """Store every accepted row in the caller's transaction (all or nothing)."""
    preview = preview_import(actor=actor, token=token, today=today)
    if not preview.accepted:
        raise DomainError(_("No row of this file can be stored."))
    source = builtin_source("import")
    with price_batch() as doubts:
        for row in preview.rows:
            if row.outcome in ("new", "update", "flagged"):
                record_price(
                    source=source,
                    commodity_id=row.values["commodity_id"],
                    market_id=row.values["market_id"],
                    price=row.values["price"],
                    price_type=row.values["price_type"],
                    doubts=doubts,
                    entered_by=actor,
                )
    record(
        actor=actor,
        action="price.imported",
        subject=source,
        detail={
            "file": preview.filename,
            "stored": preview.accepted,
            "rejected": preview.count("rejected"),
        },
    )
    db.session.flush()
    discard_upload(token)
    return preview


def discard_upload(token: str) -> None:
    for suffix in (".xlsx", ".csv", ".name"):
        (_folder() / f"{token}{suffix}").unlink(missing_ok=True)
