"""People who sign in."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.db import TimestampMixin
from market.extensions import db

if TYPE_CHECKING:
    from market.orgs.models import Membership, Organisation


class Role(enum.StrEnum):
    member = "member"
    official = "official"
    admin = "admin"


class User(TimestampMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(30))
    locale: Mapped[str] = mapped_column(String(5), default="vi")
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=10, validate_strings=True), default=Role.member
    )
    email_verified_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # Part of the session identifier: bumping it ends every session and remember-me cookie.
    session_version: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_official(self) -> bool:
        return self.role in (Role.official, Role.admin)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def organisation(self) -> Organisation | None:
        """The organisation the user acts for (one per user for now)."""
        return self.memberships[0].organisation if self.memberships else None
