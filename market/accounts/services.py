"""Accounts: sign-up, e-mail verification, authentication, passwords and profiles."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from market.accounts.models import Role, User
from market.alerts.services import queue_email
from market.db import utcnow
from market.errors import DomainError
from market.extensions import db
from market.orgs.models import Membership, OrganisationKind
from market.urls import absolute_url

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 8
VERIFY_EMAIL = "verify-email"
RESET_PASSWORD = "reset-password"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True


def _check_new_password(password: str, *, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            _("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            field=field,
        )


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def load_user_from_session(session_id: str) -> User | None:
    """Flask-Login user loader: the id carries the session version, so old sessions end."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version) or not user.active:
        return None
    return user


# Signed links ---------------------------------------------------------------------------


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"market-{purpose}")


def _password_fingerprint(user: User) -> str:
    # Ties a reset link to the current password: once used, the link stops working.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def make_token(purpose: str, user: User) -> str:
    payload: dict[str, Any] = {"uid": user.id, "email": user.email}
    if purpose == RESET_PASSWORD:
        payload["pw"] = _password_fingerprint(user)
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str) -> User:
    max_age = current_app.config["MARKET_TOKEN_MAX_AGE"]
    if purpose == RESET_PASSWORD:
        max_age = min(max_age, 24 * 3600)
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise DomainError(_("This link has expired. Please ask for a new one.")) from exc
    except BadSignature as exc:
        raise DomainError(_("This link is not valid.")) from exc
    user = db.session.get(User, payload.get("uid"))
    if user is None or user.email != payload.get("email"):
        raise DomainError(_("This link is not valid."))
    if purpose == RESET_PASSWORD and payload.get("pw") != _password_fingerprint(user):
        raise DomainError(_("This link has already been used. Please ask for a new one."))
    return user


# Sign-up and verification ------------------------------------------------------------------


def sign_up(
    *,
    email: str,
    password: str,
    name: str,
    phone: str | None,
    organisation_name: str,
    organisation_kind: OrganisationKind | str,
    locale: str = "vi",
) -> User:
    """Create a member with a new organisation awaiting verification, and send the link."""
    from market.orgs.services import create_organisation

    email = normalise_email(email)
    if get_user_by_email(email) is not None:
        raise DomainError(
            _("An account with this e-mail address already exists. Log in or reset the password."),
            field="email",
        )
    _check_new_password(password)
    user = User(
        email=email,
        password_hash=hash_password(password),
        name=name.strip(),
        phone=(phone or "").strip() or None,
        locale=locale if locale in current_app.config["MARKET_LOCALES"] else "vi",
        role=Role.member,
    )
    db.session.add(user)
    organisation = create_organisation(
        name=organisation_name, kind=OrganisationKind(organisation_kind), email=email, phone=phone
    )
    db.session.add(Membership(user=user, organisation=organisation, role="owner"))
    db.session.flush()
    send_verification_email(user=user)
    return user


def _queue_account_email(user: User, *, template: str, purpose: str) -> None:
    token = make_token(purpose, user)
    endpoint = "accounts.verify_email" if purpose == VERIFY_EMAIL else "accounts.reset_password"
    queue_email(
        user=user,
        kind="account",
        template=template,
        # Each link is its own e-mail (a new request makes a new link), never the same one twice.
        dedupe_key=f"{purpose}:{user.id}:{hashlib.sha256(token.encode()).hexdigest()[:24]}",
        link=absolute_url(endpoint, token=token),
    )


def send_verification_email(*, user: User) -> None:
    _queue_account_email(user, template="verify_email", purpose=VERIFY_EMAIL)


def resend_verification(*, email: str) -> None:
    """Send the link again; says nothing about whether the address exists."""
    user = get_user_by_email(email)
    if user is not None and not user.email_verified:
        send_verification_email(user=user)


def verify_email(*, token: str) -> User:
    user = read_token(VERIFY_EMAIL, token)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    db.session.flush()
    return user


# Signing in ------------------------------------------------------------------------------


def authenticate(*, email: str, password: str) -> User:
    user = get_user_by_email(email)
    if user is None or not check_password(user, password):
        # Same message and (argon2) cost whether or not the address exists.
        if user is None:
            _hasher.hash(password)
        raise DomainError(_("Wrong e-mail address or password."))
    if not user.active:
        raise DomainError(_("This account has been closed."))
    if not user.email_verified:
        raise DomainError(
            _("Please confirm your e-mail address first: follow the link we sent you."),
            field="unverified",
        )
    user.last_login_at = utcnow()
    db.session.flush()
    return user


def request_password_reset(*, email: str) -> None:
    """E-mail a reset link if the account exists; the caller always says the same thing."""
    user = get_user_by_email(email)
    if user is None or not user.active:
        return
    _queue_account_email(user, template="reset_password", purpose=RESET_PASSWORD)


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    # Ends every other session and remember-me cookie of this user.
    user.session_version += 1


def reset_password(*, token: str, password: str) -> User:
    user = read_token(RESET_PASSWORD, token)
    _check_new_password(password)
    _set_password(user, password)
    # Following the link proves the address too.
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    db.session.flush()
    return user


def change_password(*, user: User, current_password: str, new_password: str) -> None:
    if not check_password(user, current_password):
        raise DomainError(_("The current password is wrong."), field="current_password")
    _check_new_password(new_password, field="new_password")
    _set_password(user, new_password)
    db.session.flush()


def update_profile(*, user: User, name: str, phone: str | None, locale: str) -> None:
    if locale not in current_app.config["MARKET_LOCALES"]:
        raise DomainError(_("Unknown language."), field="locale")
    user.name = name.strip()
    user.phone = (phone or "").strip() or None
    user.locale = locale
    db.session.flush()


def create_user(
    *, email: str, role: Role | str, password: str | None = None, name: str | None = None
) -> tuple[User, str | None]:
    """Create a staff account from the command line; returns the password if one was made up."""
    email = normalise_email(email)
    if get_user_by_email(email) is not None:
        raise DomainError(_("An account with this e-mail address already exists."))
    generated = None
    if not password:
        generated = password = secrets.token_urlsafe(12)
    _check_new_password(password)
    user = User(
        email=email,
        password_hash=hash_password(password),
        name=name or email.split("@")[0],
        role=Role(role),
        email_verified_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    return user, generated


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0
