"""E-mail settings and the one-click unsubscribe link."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.alerts import services
from market.alerts.models import Frequency
from market.alerts.registry import get_kind
from market.db import writes
from market.errors import DomainError
from market.extensions import csrf, db

bp = Blueprint("alerts", __name__)


@bp.route("/account/email", methods=["GET", "POST"])
@login_required
def preferences():
    rows = services.preferences(current_user)
    if request.method == "POST":
        # Validate every row first: nothing is saved unless all of it can be.
        chosen: dict[str, str] = {}
        errors = False
        for kind, current in rows:
            # A kind the form did not carry (registered since the page was loaded) stays as is.
            value = request.form.get(f"kind-{kind.key}", current.value)
            if value not in Frequency.__members__ or (
                value in ("daily", "weekly") and not kind.digestible
            ):
                errors = True
            chosen[kind.key] = value
        if errors:
            flash(_("Please choose one of the offered options for each kind of e-mail."), "error")
        else:
            try:
                for key, value in chosen.items():
                    services.set_preference(user=current_user, kind=key, frequency=value)
            except DomainError as error:
                db.session.rollback()
                flash(error.message, "error")
            else:
                db.session.commit()
                flash(_("Your e-mail settings are saved."), "success")
                return redirect(url_for("alerts.preferences"))
        rows = [(kind, chosen.get(kind.key, current)) for kind, current in rows]
    return render_template("alerts/preferences.html", rows=rows, labels=services.FREQUENCY_LABELS)


@bp.route("/email/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # mail clients POST here on their own (RFC 8058 one-click); the token is the proof
@writes
def unsubscribe(token: str):
    try:
        user, kind = services.unsubscribe(token=token)
    except DomainError as error:
        db.session.rollback()
        abort(404, error.message)
    db.session.commit()
    if request.method == "POST" and request.form.get("List-Unsubscribe") == "One-Click":
        return "", 204
    return render_template("alerts/unsubscribed.html", user=user, kind=kind, token=token)


@bp.post("/email/resubscribe/<token>")
@csrf.exempt  # the signed token names the user and kind; undoing needs no session either
def resubscribe(token: str):
    try:
        user, kind = services.unsubscribe(token=token)
        services.set_preference(user=user, kind=kind.key, frequency=get_kind(kind.key).default)
    except DomainError:
        db.session.rollback()
        abort(404)
    db.session.commit()
    flash(_("You will receive these e-mails again."), "success")
    return redirect(url_for("site.home"))
