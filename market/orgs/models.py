"""Cooperatives, households, enterprises and traders, and the certificates they hold."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.accounts.models import User
from market.catalogue.models import Commodity, Ward
from market.db import TimestampMixin, utcnow
from market.extensions import db


def _enum(cls: type[enum.Enum], length: int = 20) -> Enum:
    return Enum(cls, native_enum=False, length=length, validate_strings=True)


class OrganisationKind(enum.StrEnum):
    cooperative = "cooperative"
    household = "household"
    enterprise = "enterprise"
    trader = "trader"


class OrganisationStatus(enum.StrEnum):
    pending = "pending"
    verified = "verified"
    suspended = "suspended"


class CertificationKind(enum.StrEnum):
    vietgap = "vietgap"
    globalgap = "globalgap"
    organic = "organic"
    ocop = "ocop"
    puc = "puc"  # mã số vùng trồng: planting-area code
    phc = "phc"  # mã số cơ sở đóng gói: packing-facility code
    other = "other"


class CertificationStatus(enum.StrEnum):
    unchecked = "unchecked"
    checked = "checked"
    rejected = "rejected"


class Organisation(TimestampMixin, db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrganisationKind] = mapped_column(_enum(OrganisationKind))
    name: Mapped[str] = mapped_column(String(200))
    name_folded: Mapped[str] = mapped_column(String(200), index=True)
    slug: Mapped[str] = mapped_column(String(90), unique=True)
    tax_code: Mapped[str | None] = mapped_column(String(30))
    ward_code: Mapped[str | None] = mapped_column(ForeignKey("ward.code"), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[OrganisationStatus] = mapped_column(
        _enum(OrganisationStatus), default=OrganisationStatus.pending, index=True
    )
    status_reason: Mapped[str | None] = mapped_column(String(500))
    status_changed_at: Mapped[datetime | None]
    status_changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    ward: Mapped[Ward | None] = relationship(lazy="joined")
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )
    certifications: Mapped[list[Certification]] = relationship(
        back_populates="organisation",
        cascade="all, delete-orphan",
        order_by="Certification.id",
    )

    @property
    def is_verified(self) -> bool:
        return self.status == OrganisationStatus.verified

    @property
    def is_suspended(self) -> bool:
        return self.status == OrganisationStatus.suspended

    @property
    def profile_complete(self) -> bool:
        """What an official needs before verifying: a code to check and a place."""
        return bool(self.tax_code and self.ward_code and (self.phone or self.email))


class Membership(db.Model):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(10), default="owner")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships", lazy="joined")


class Certification(TimestampMixin, db.Model):
    __tablename__ = "certification"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[CertificationKind] = mapped_column(_enum(CertificationKind))
    number: Mapped[str] = mapped_column(String(100))
    issuer: Mapped[str | None] = mapped_column(String(200))
    commodity_id: Mapped[int | None] = mapped_column(ForeignKey("commodity.id"))
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]
    ocop_stars: Mapped[int | None]
    # Uploaded evidence, stored under the instance folder with a random name.
    document_path: Mapped[str | None] = mapped_column(String(200))
    document_name: Mapped[str | None] = mapped_column(String(200))
    document_type: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[CertificationStatus] = mapped_column(
        _enum(CertificationStatus), default=CertificationStatus.unchecked
    )
    checked_at: Mapped[datetime | None]
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    check_note: Mapped[str | None] = mapped_column(String(500))

    organisation: Mapped[Organisation] = relationship(back_populates="certifications")
    commodity: Mapped[Commodity | None] = relationship(lazy="joined")

    def is_valid_on(self, day: date) -> bool:
        """Held and not expired on ``day`` (and not rejected by an official)."""
        if self.status == CertificationStatus.rejected:
            return False
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.valid_until and day > self.valid_until)
