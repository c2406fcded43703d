"""Reference data: loading it, and looking places and commodities up."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import selectinload

from market.catalogue.models import (
    HOME_PROVINCE_CODE,
    Commodity,
    CommodityAlias,
    Market,
    MarketAlias,
    Province,
    Unit,
    Ward,
    short_province_name,
)
from market.extensions import db
from market.text import fold

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

CATEGORY_LABELS = {
    "lua_gao": _l("Rice and paddy"),
    "cay_cong_nghiep": _l("Industrial crops"),
    "cay_an_qua": _l("Fruit"),
    "rau_mau": _l("Vegetables and field crops"),
    "chan_nuoi": _l("Livestock and poultry"),
    "thuy_san": _l("Fisheries"),
    "lam_san": _l("Forest products"),
    "duoc_lieu": _l("Medicinal plants"),
    "vat_tu": _l("Farm inputs"),
}

WARD_TYPE_LABELS = {"xa": _l("commune"), "phuong": _l("ward"), "dac_khu": _l("special zone")}


@dataclass
class LoadReport:
    """What one load changed, per table: a second identical load reports nothing new."""

    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(self.inserted.values()) or any(self.updated.values())

    def summary(self) -> str:
        tables = sorted(set(self.inserted) | set(self.updated))
        return ", ".join(
            f"{t}: +{self.inserted.get(t, 0)} ~{self.updated.get(t, 0)}" for t in tables
        )


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _float(value: str) -> float | None:
    return float(value) if value.strip() else None


def _upsert(model: type, key: str, records: Iterable[dict], report: LoadReport) -> dict:
    """Insert missing rows and update changed ones; touch nothing that is already equal."""
    table = model.__tablename__
    existing = {getattr(obj, key): obj for obj in db.session.scalars(select(model))}
    inserted = updated = 0
    for record in records:
        obj = existing.get(record[key])
        if obj is None:
            obj = model(**record)
            db.session.add(obj)
            existing[record[key]] = obj
            inserted += 1
            continue
        changed = False
        for attr, value in record.items():
            if getattr(obj, attr) != value:
                setattr(obj, attr, value)
                changed = True
        updated += changed
    report.inserted[table] = report.inserted.get(table, 0) + inserted
    report.updated[table] = report.updated.get(table, 0) + updated
    db.session.flush()
    return existing


def load_reference_data() -> LoadReport:
    """Load provinces, wards, units and commodities from market/data; safe to run repeatedly."""
    report = LoadReport()
    _upsert(
        Province,
        "code",
        (
            {
                "code": r["code"],
                "name": r["name"],
                "name_folded": fold(r["name"]),
                "lat": _float(r["lat"]),
                "lon": _float(r["lon"]),
            }
            for r in _rows("vn_provinces.csv")
        ),
        report,
    )
    home = {r["code"]: r for r in _rows("quang_tri_units.csv")}
    wards = []
    for r in _rows("vn_wards.csv"):
        extra = home.get(r["code"], {})
        wards.append(
            {
                "code": r["code"],
                "name": r["name"],
                "name_folded": fold(r["name"]),
                "type": r["type"],
                "province_code": r["province_code"],
                "lat": _float(r["lat"]),
                "lon": _float(r["lon"]),
                "former_district": extra.get("former_district") or None,
                "merged_from": extra.get("merged_from") or None,
                "area_km2": _float(extra.get("area_km2", "")),
            }
        )
    _upsert(Ward, "code", wards, report)
    _upsert(
        Unit,
        "code",
        (
            {
                "code": r["code"],
                "name_vi": r["name_vi"],
                "name_en": r["name_en"],
                "kind": r["kind"],
                "factor_to_base": Decimal(r["factor_to_base"]) if r["factor_to_base"] else None,
                "base_unit": r["base_unit"],
                "notes": r["notes"] or None,
            }
            for r in _rows("units.csv")
        ),
        report,
    )
    commodity_rows = _rows("commodities.csv")
    commodities = _upsert(
        Commodity,
        "code",
        (
            {
                "code": r["code"],
                "name_vi": r["name_vi"],
                "name_en": r["name_en"],
                "name_folded": fold(r["name_vi"]),
                "category": r["category"],
                "default_unit_code": r["default_unit"],
            }
            for r in commodity_rows
        ),
        report,
    )
    _load_aliases(commodity_rows, commodities, report)
    _load_province_markets(report)
    return report


def _load_province_markets(report: LoadReport) -> None:
    """One market per province, known also by its full name and its pre-2025 provinces' names."""
    provinces_by_code = {p.code: p for p in db.session.scalars(select(Province))}
    _upsert(
        Market,
        "code",
        (
            {
                "code": f"tinh-{p.code}",
                "name": p.short_name,
                "name_folded": fold(p.short_name),
                "kind": "province",
                "province_code": p.code,
                "lat": p.lat,
                "lon": p.lon,
            }
            for p in provinces_by_code.values()
        ),
        report,
    )
    markets = {
        m.province_code: m
        for m in db.session.scalars(select(Market).where(Market.kind == "province"))
    }
    names: dict[str, tuple[str, int]] = {}
    for p in provinces_by_code.values():
        for name in (p.short_name, p.name):
            names.setdefault(fold(name), (name, markets[p.code].id))
    for r in _rows("former_provinces.csv"):
        market_id = markets[r["province_code"]].id
        for name in (r["former_name"], short_province_name(r["former_name"])):
            names.setdefault(fold(name), (name, market_id))
    wards = {
        w.code: w
        for w in db.session.scalars(select(Ward).where(Ward.province_code == HOME_PROVINCE_CODE))
    }
    local_rows = _rows("quang_tri_markets.csv")
    local = _upsert(
        Market,
        "code",
        (
            {
                "code": r["code"],
                "name": r["name"],
                "name_folded": fold(r["name"]),
                "kind": r["kind"],
                "province_code": HOME_PROVINCE_CODE,
                "ward_code": r["ward_code"],
                "lat": wards[r["ward_code"]].lat,
                "lon": wards[r["ward_code"]].lon,
            }
            for r in local_rows
        ),
        report,
    )
    # International prices (World Bank, exchanges) belong to no province.
    world = _upsert(
        Market,
        "code",
        [
            {
                "code": "the-gioi",
                "name": "Thế giới",
                "name_folded": fold("Thế giới"),
                "kind": "export",
                "province_code": None,
                "ward_code": None,
                "lat": None,
                "lon": None,
            }
        ],
        report,
    )["the-gioi"]
    for alias in ("Thế giới", "Quốc tế", "World", "International"):
        names.setdefault(fold(alias), (alias, world.id))
    for r in local_rows:
        for alias in r["aliases"].split(";"):
            if alias.strip():
                names.setdefault(fold(alias), (alias.strip(), local[r["code"]].id))
    existing = {a.alias_folded for a in db.session.scalars(select(MarketAlias))}
    inserted = 0
    for folded, (name, market_id) in names.items():
        if folded not in existing:
            db.session.add(MarketAlias(market_id=market_id, alias=name, alias_folded=folded))
            inserted += 1
    report.inserted["market_alias"] = inserted
    report.updated["market_alias"] = 0
    db.session.flush()


def _load_aliases(rows: list[dict], commodities: dict[str, Commodity], report: LoadReport) -> None:
    existing = {(a.commodity_id, a.alias) for a in db.session.scalars(select(CommodityAlias))}
    inserted = 0
    for r in rows:
        commodity = commodities[r["code"]]
        names = [r["name_vi"], *r["common_aliases_vi"].split(";")]
        for name in dict.fromkeys(n.strip() for n in names if n.strip()):
            if (commodity.id, name) in existing:
                continue
            db.session.add(
                CommodityAlias(commodity_id=commodity.id, alias=name, alias_folded=fold(name))
            )
            existing.add((commodity.id, name))
            inserted += 1
    report.inserted["commodity_alias"] = inserted
    report.updated["commodity_alias"] = 0
    db.session.flush()


def home_wards() -> list[Ward]:
    """The communes and wards of Quảng Trị, by name."""
    return list(
        db.session.scalars(
            select(Ward).where(Ward.province_code == HOME_PROVINCE_CODE).order_by(Ward.name_folded)
        )
    )


def wards_of(province_code: str) -> list[Ward]:
    return list(
        db.session.scalars(
            select(Ward).where(Ward.province_code == province_code).order_by(Ward.name_folded)
        )
    )


def provinces() -> list[Province]:
    """Provinces, the home province first, then by name."""
    rows = list(db.session.scalars(select(Province).order_by(Province.name_folded)))
    return sorted(rows, key=lambda p: p.code != HOME_PROVINCE_CODE)


def get_ward(code: str | None) -> Ward | None:
    return db.session.get(Ward, code) if code else None


def commodities(*, with_aliases: bool = False) -> list[Commodity]:
    stmt = select(Commodity).order_by(Commodity.category, Commodity.id)
    if with_aliases:
        stmt = stmt.options(selectinload(Commodity.aliases))
    return list(db.session.scalars(stmt))


def units() -> list[Unit]:
    return list(db.session.scalars(select(Unit).order_by(Unit.kind, Unit.code)))


def get_commodity(commodity_id: int | None) -> Commodity | None:
    return db.session.get(Commodity, commodity_id) if commodity_id else None


def commodity_by_code(code: str | None) -> Commodity | None:
    """The commodity a URL, an API query or another domain names by its stable code."""
    return db.session.scalar(select(Commodity).where(Commodity.code == code)) if code else None


def commodity_label(commodity: Commodity) -> str:
    return commodity.name(str(get_locale() or "vi"))


def commodities_matching(query: str) -> ColumnElement[bool]:
    """A condition on ``Commodity``: its name, English name or an alias contains ``query``,
    accents and case ignored ("ca phe" finds "Cà phê")."""
    needle = f"%{fold(query)}%"
    aliases = select(CommodityAlias.commodity_id).where(CommodityAlias.alias_folded.like(needle))
    return (
        Commodity.name_folded.like(needle)
        | Commodity.name_en.ilike(f"%{query.strip()}%")
        | Commodity.id.in_(aliases)
    )


def find_commodities(*, query: str, limit: int = 20) -> list[Commodity]:
    """Accent-insensitive search over names and aliases."""
    if not fold(query):
        return []
    stmt = select(Commodity).where(commodities_matching(query)).order_by(Commodity.id).limit(limit)
    return list(db.session.scalars(stmt))
