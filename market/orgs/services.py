"""Organisations: profiles, certifications, and their verification by officials."""

from __future__ import annotations

import io
import os
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError
from sqlalchemy import func, select

from market.accounts.models import User
from market.alerts.registry import register_kind
from market.alerts.services import queue_email
from market.audit.services import describe_actions, record
from market.catalogue.models import Ward
from market.db import utcnow
from market.errors import DomainError
from market.extensions import db
from market.orgs.models import (
    Certification,
    CertificationKind,
    CertificationStatus,
    Membership,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
)
from market.permissions import require, rule
from market.text import fold, slugify
from market.urls import absolute_url

KIND_LABELS = {
    OrganisationKind.cooperative: _l("Cooperative"),
    OrganisationKind.household: _l("Farm household"),
    OrganisationKind.enterprise: _l("Enterprise"),
    OrganisationKind.trader: _l("Trader"),
}
STATUS_LABELS = {
    OrganisationStatus.pending: _l("Awaiting verification"),
    OrganisationStatus.verified: _l("Verified"),
    OrganisationStatus.suspended: _l("Suspended"),
}
CERTIFICATION_LABELS = {
    CertificationKind.vietgap: _l("VietGAP"),
    CertificationKind.globalgap: _l("GlobalG.A.P."),
    CertificationKind.organic: _l("Organic"),
    CertificationKind.ocop: _l("OCOP"),
    CertificationKind.puc: _l("Planting-area code"),
    CertificationKind.phc: _l("Packing-facility code"),
    CertificationKind.other: _l("Other"),
}
CERTIFICATION_STATUS_LABELS = {
    CertificationStatus.unchecked: _l("Not yet checked"),
    CertificationStatus.checked: _l("Checked by the department"),
    CertificationStatus.rejected: _l("Rejected"),
}

describe_actions(
    {
        "organisation.verified": _l("Organisation verified"),
        "organisation.suspended": _l("Organisation suspended"),
        "organisation.pending": _l("Organisation sent back for verification"),
        "certification.checked": _l("Certificate checked"),
        "certification.rejected": _l("Certificate rejected"),
        "certification.unchecked": _l("Certificate check withdrawn"),
    }
)

register_kind(
    "organisation_status",
    _l("Verification of my organisation"),
    _l("When the department verifies or suspends your organisation."),
    order=10,
)

# Changing these on a verified organisation sends it back for verification.
_IDENTITY_FIELDS = ("name", "kind", "tax_code")


# Permission rules ------------------------------------------------------------------------


def is_member(user: User | None, organisation: Organisation) -> bool:
    return user is not None and any(m.organisation_id == organisation.id for m in user.memberships)


@rule("view", Organisation)
def _can_view(user: User | None, organisation: Organisation) -> bool:
    if not organisation.is_suspended:
        return True
    return user is not None and (user.is_official or is_member(user, organisation))


@rule("edit", Organisation)
def _can_edit(user: User | None, organisation: Organisation) -> bool:
    return user is not None and (user.is_admin or is_member(user, organisation))


@rule("verify", Organisation)
def _can_verify(user: User | None, _organisation: Any) -> bool:
    return user is not None and user.is_official


@rule("check", Certification)
def _can_check(user: User | None, _certification: Any) -> bool:
    return user is not None and user.is_official


@rule("edit", Certification)
def _can_edit_certification(user: User | None, certification: Certification) -> bool:
    return _can_edit(user, certification.organisation)


@rule("view_document", Certification)
def _can_view_document(user: User | None, certification: Certification) -> bool:
    return user is not None and (user.is_official or is_member(user, certification.organisation))


@rule("view", "verification_queue")
def _can_view_queue(user: User | None, _subject: Any) -> bool:
    return user is not None and user.is_official


# Profiles ---------------------------------------------------------------------------------


def _unique_slug(name: str, *, exclude_id: int | None = None) -> str:
    base = slugify(name, max_length=80) or "to-chuc"
    slug, n = base, 1
    while True:
        stmt = select(Organisation.id).where(Organisation.slug == slug)
        if exclude_id is not None:
            stmt = stmt.where(Organisation.id != exclude_id)
        if db.session.scalar(stmt) is None:
            return slug
        n += 1
        slug = f"{base}-{n}"


def create_organisation(
    *, name: str, kind: OrganisationKind, email: str | None = None, phone: str | None = None
) -> Organisation:
    name = name.strip()
    if not name:
        raise DomainError(_("Give the organisation's name."), field="organisation_name")
    organisation = Organisation(
        name=name,
        name_folded=fold(name),
        slug=_unique_slug(name),
        kind=kind,
        email=email,
        phone=(phone or "").strip() or None,
        status=OrganisationStatus.pending,
    )
    db.session.add(organisation)
    db.session.flush()
    return organisation


def update_organisation(
    *,
    actor: User,
    organisation: Organisation,
    name: str,
    kind: OrganisationKind | str,
    tax_code: str | None,
    ward_code: str | None,
    address: str | None,
    phone: str | None,
    email: str | None,
    description: str | None,
) -> bool:
    """Save the profile; returns True when the change sent a verified organisation back."""
    require(actor, "edit", organisation)
    if ward_code and db.session.get(Ward, ward_code) is None:
        raise DomainError(_("Choose a commune from the list."), field="ward_code")
    clean = {
        "name": name.strip(),
        "kind": OrganisationKind(kind),
        "tax_code": (tax_code or "").strip() or None,
        "ward_code": ward_code or None,
        "address": (address or "").strip() or None,
        "phone": (phone or "").strip() or None,
        "email": (email or "").strip().lower() or None,
        "description": (description or "").strip() or None,
    }
    if not clean["name"]:
        raise DomainError(_("Give the organisation's name."), field="name")
    identity_changed = any(getattr(organisation, f) != clean[f] for f in _IDENTITY_FIELDS)
    if clean["name"] != organisation.name:
        organisation.slug = _unique_slug(clean["name"], exclude_id=organisation.id)
        organisation.name_folded = fold(clean["name"])
    for attr, value in clean.items():
        setattr(organisation, attr, value)
    reverify = identity_changed and organisation.is_verified and not actor.is_official
    if reverify:
        organisation.status = OrganisationStatus.pending
        organisation.status_reason = None
        organisation.status_changed_at = utcnow()
        organisation.status_changed_by_id = actor.id
    db.session.flush()
    return reverify


def get_organisation(*, slug: str, viewer: User | None) -> Organisation | None:
    """The organisation if it exists and ``viewer`` may see it (suspended ones are hidden)."""
    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        return None
    require(viewer, "view", organisation)
    return organisation


def directory(
    *, query: str = "", kind: str | None = None, ward_code: str | None = None, limit: int = 100
) -> list[Organisation]:
    """Verified organisations for the public directory, searchable without accents."""
    stmt = select(Organisation).where(Organisation.status == OrganisationStatus.verified)
    if needle := fold(query):
        stmt = stmt.where(Organisation.name_folded.like(f"%{needle}%"))
    if kind in OrganisationKind.__members__:
        stmt = stmt.where(Organisation.kind == OrganisationKind(kind))
    if ward_code:
        stmt = stmt.where(Organisation.ward_code == ward_code)
    return list(db.session.scalars(stmt.order_by(Organisation.name_folded).limit(limit)))


def count_by_status() -> dict[OrganisationStatus, int]:
    rows = db.session.execute(
        select(Organisation.status, func.count(Organisation.id)).group_by(Organisation.status)
    )
    counts = dict.fromkeys(OrganisationStatus, 0)
    counts.update({status: n for status, n in rows})
    return counts


# Certifications ------------------------------------------------------------------------------


@dataclass
class Upload:
    """An uploaded file as the service sees it: no Flask or Werkzeug types past the view."""

    filename: str
    stream: IO[bytes]


_DOCUMENT_TYPES = {
    "PDF": ("application/pdf", "pdf"),
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}


def _sniff_document(data: bytes) -> tuple[str, str]:
    """Decide what a file is from its bytes, never from its name or the browser's say-so."""
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-2048:]:
        return _DOCUMENT_TYPES["PDF"]
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            fmt = image.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DomainError(
            _("The document must be a PDF file or a photo (JPEG, PNG or WebP)."), field="document"
        ) from exc
    if fmt not in _DOCUMENT_TYPES or fmt == "PDF":
        raise DomainError(
            _("The document must be a PDF file or a photo (JPEG, PNG or WebP)."), field="document"
        )
    return _DOCUMENT_TYPES[fmt]


def _store_document(upload: Upload) -> tuple[str, str]:
    limit = current_app.config["MARKET_DOCUMENT_MAX_BYTES"]
    data = upload.stream.read(limit + 1)
    if not data:
        raise DomainError(_("The uploaded file is empty."), field="document")
    if len(data) > limit:
        raise DomainError(
            _("The document is too large (at most %(mb)d MB).", mb=limit // (1024 * 1024)),
            field="document",
        )
    mime, ext = _sniff_document(data)
    folder = Path(current_app.config["MARKET_UPLOAD_DIR"]) / "certificates"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{ext}"
    tmp = folder / f".{name}.part"
    tmp.write_bytes(data)
    os.replace(tmp, folder / name)  # never a half-written file under the final name
    return f"certificates/{name}", mime


def document_path(certification: Certification) -> Path:
    return Path(current_app.config["MARKET_UPLOAD_DIR"]) / (certification.document_path or "")


def add_certification(
    *,
    actor: User,
    organisation: Organisation,
    kind: CertificationKind | str,
    number: str,
    issuer: str | None = None,
    commodity_id: int | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
    ocop_stars: int | None = None,
    document: Upload | None = None,
) -> Certification:
    require(actor, "edit", organisation)
    kind = CertificationKind(kind)
    number = number.strip()
    if not number:
        raise DomainError(_("Give the certificate or code number."), field="number")
    if valid_from and valid_until and valid_until < valid_from:
        raise DomainError(_("'Valid until' must not be before 'valid from'."), field="valid_until")
    if kind == CertificationKind.ocop:
        if ocop_stars not in (3, 4, 5):
            raise DomainError(_("OCOP products are rated 3, 4 or 5 stars."), field="ocop_stars")
    else:
        ocop_stars = None
    certification = Certification(
        organisation=organisation,
        kind=kind,
        number=number,
        issuer=(issuer or "").strip() or None,
        commodity_id=commodity_id or None,
        valid_from=valid_from,
        valid_until=valid_until,
        ocop_stars=ocop_stars,
    )
    if document is not None and document.filename:
        certification.document_path, certification.document_type = _store_document(document)
        certification.document_name = Path(document.filename).name[:200]
    db.session.add(certification)
    db.session.flush()
    return certification


def remove_certification(*, actor: User, certification: Certification) -> None:
    require(actor, "edit", certification)
    db.session.delete(certification)
    db.session.flush()


def get_certification(certification_id: int) -> Certification | None:
    return db.session.get(Certification, certification_id)


def certification_document(*, viewer: User | None, certification: Certification) -> Path:
    require(viewer, "view_document", certification)
    path = document_path(certification)
    if not certification.document_path or not path.is_file():
        raise DomainError(_("This certificate has no document."))
    return path


# Verification by officials ----------------------------------------------------------------


def verification_queue(*, actor: User) -> list[Organisation]:
    """Organisations waiting for an official, oldest first."""
    require(actor, "view", "verification_queue")
    stmt = (
        select(Organisation)
        .where(Organisation.status == OrganisationStatus.pending)
        .order_by(Organisation.created_at, Organisation.id)
    )
    return list(db.session.scalars(stmt))


def organisations_by_status(*, actor: User, status: OrganisationStatus) -> list[Organisation]:
    require(actor, "view", "verification_queue")
    stmt = (
        select(Organisation)
        .where(Organisation.status == status)
        .order_by(Organisation.status_changed_at.desc(), Organisation.id.desc())
        .limit(200)
    )
    return list(db.session.scalars(stmt))


def get_organisation_by_id(organisation_id: int) -> Organisation | None:
    return db.session.get(Organisation, organisation_id)


def organisation_for_review(*, actor: User, organisation_id: int) -> Organisation | None:
    require(actor, "view", "verification_queue")
    return db.session.get(Organisation, organisation_id)


def _set_status(
    *, actor: User, organisation: Organisation, status: OrganisationStatus, reason: str | None
) -> None:
    require(actor, "verify", organisation)
    previous = organisation.status
    organisation.status = status
    organisation.status_reason = reason
    organisation.status_changed_at = utcnow()
    organisation.status_changed_by_id = actor.id
    event = record(
        actor=actor,
        action=f"organisation.{status.value}",
        subject=organisation,
        reason=reason,
        detail={"from": previous.value, "to": status.value},
    )
    for member in members_of(organisation):
        queue_email(
            user=member,
            kind="organisation_status",
            template="organisation_status",
            dedupe_key=f"organisation-status:{event.id}:{member.id}",
            organisation=organisation,
            status=status.value,
            reason=reason,
            profile_url=absolute_url("orgs.profile", slug=organisation.slug),
            digest_title=organisation.name,
            digest_summary=lambda: str(STATUS_LABELS[status]) + (f": {reason}" if reason else ""),
            digest_link=absolute_url("orgs.profile", slug=organisation.slug),
        )


def verify_organisation(
    *, actor: User, organisation: Organisation, note: str | None = None
) -> None:
    _set_status(
        actor=actor,
        organisation=organisation,
        status=OrganisationStatus.verified,
        reason=(note or "").strip() or None,
    )


def suspend_organisation(*, actor: User, organisation: Organisation, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for the suspension."), field="reason")
    _set_status(
        actor=actor, organisation=organisation, status=OrganisationStatus.suspended, reason=reason
    )


def check_certification(
    *,
    actor: User,
    certification: Certification,
    status: CertificationStatus | str,
    note: str | None = None,
) -> None:
    require(actor, "check", certification)
    status = CertificationStatus(status)
    note = (note or "").strip() or None
    if status == CertificationStatus.rejected and not note:
        raise DomainError(_("Say why the certificate is rejected."), field="note")
    certification.status = status
    certification.check_note = note
    certification.checked_at = utcnow()
    certification.checked_by_id = actor.id
    record(
        actor=actor,
        action=f"certification.{status.value}",
        subject=certification,
        reason=note,
        detail={"organisation_id": certification.organisation_id, "kind": certification.kind.value},
    )
    db.session.flush()


def members_of(organisation: Organisation) -> list[User]:
    return [m.user for m in organisation.memberships]


def organisation_of(user: User) -> Organisation | None:
    membership = db.session.scalar(
        select(Membership).where(Membership.user_id == user.id).order_by(Membership.id)
    )
    return membership.organisation if membership else None
