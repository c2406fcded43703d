"""Reference data: places, commodities and units, loaded from the CSVs in market/data."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db

# The province this platform serves (post-2025 code: Quảng Bình merged into Quảng Trị).
HOME_PROVINCE_CODE = "44"


class Province(db.Model):
    __tablename__ = "province"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_folded: Mapped[str] = mapped_column(String(100), index=True)
    lat: Mapped[float | None]
    lon: Mapped[float | None]

    @property
    def short_name(self) -> str:
        return short_province_name(self.name)


def short_province_name(name: str) -> str:
    """ "Đà Nẵng" for "Thành phố Đà Nẵng", "Gia Lai" for "Tỉnh Gia Lai"."""
    for prefix in ("Thành phố ", "Tỉnh "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


class Ward(db.Model):
    """A commune, ward or special zone (xã, phường, đặc khu) after the 2025 reorganisation."""

    __tablename__ = "ward"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_folded: Mapped[str] = mapped_column(String(100), index=True)
    type: Mapped[str] = mapped_column(String(10))
    province_code: Mapped[str] = mapped_column(ForeignKey("province.code"), index=True)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    # Only known for the home province: where the commune was before the merger.
    former_district: Mapped[str | None] = mapped_column(String(100))
    merged_from: Mapped[str | None] = mapped_column(String(500))
    area_km2: Mapped[float | None]

    province: Mapped[Province] = relationship(lazy="joined")

    @property
    def label(self) -> str:
        return f"{self.name}, {self.province.short_name}"


class Unit(db.Model):
    __tablename__ = "unit"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))
    # None where no fixed conversion exists (a sack, a bunch): such quantities keep their unit.
    factor_to_base: Mapped[Decimal | None] = mapped_column(Numeric(18, 9))
    base_unit: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(String(300))

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_vi

    @property
    def priced_per(self) -> str:
        """The unit prices in this unit are stored per: its base unit, or itself when it has
        no fixed conversion."""
        return self.base_unit if self.factor_to_base is not None else self.code


class Commodity(db.Model):
    __tablename__ = "commodity"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_vi: Mapped[str] = mapped_column(String(150))
    name_en: Mapped[str] = mapped_column(String(150))
    name_folded: Mapped[str] = mapped_column(String(150), index=True)
    category: Mapped[str] = mapped_column(String(30), index=True)
    default_unit_code: Mapped[str] = mapped_column(ForeignKey("unit.code"))

    default_unit: Mapped[Unit] = relationship(lazy="joined")
    aliases: Mapped[list[CommodityAlias]] = relationship(
        back_populates="commodity", cascade="all, delete-orphan", order_by="CommodityAlias.id"
    )

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_vi


class CommodityAlias(db.Model):
    """A name by which people and price pages call a commodity ("heo hơi" for live hogs)."""

    __tablename__ = "commodity_alias"
    __table_args__ = (UniqueConstraint("commodity_id", "alias"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commodity_id: Mapped[int] = mapped_column(ForeignKey("commodity.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(150), index=True)
    alias_folded: Mapped[str] = mapped_column(String(150), index=True)

    commodity: Mapped[Commodity] = relationship(back_populates="aliases")


class Market(db.Model):
    """A place prices are collected: a province as a whole, a wholesale market, a factory gate."""

    __tablename__ = "market"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(150))
    name_folded: Mapped[str] = mapped_column(String(150), index=True)
    # province | farm_gate | wholesale | retail | export | factory
    kind: Mapped[str] = mapped_column(String(20), default="province")
    province_code: Mapped[str | None] = mapped_column(ForeignKey("province.code"), index=True)
    ward_code: Mapped[str | None] = mapped_column(ForeignKey("ward.code"))
    lat: Mapped[float | None]
    lon: Mapped[float | None]

    province: Mapped[Province | None] = relationship(lazy="joined")
    aliases: Mapped[list[MarketAlias]] = relationship(
        back_populates="market", cascade="all, delete-orphan"
    )


class MarketAlias(db.Model):
    """Another name of a market, e.g. a pre-2025 province name still printed by many sites."""

    __tablename__ = "market_alias"

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("market.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(150))
    alias_folded: Mapped[str] = mapped_column(String(150), unique=True)

    market: Mapped[Market] = relationship(back_populates="aliases")
