"""E-mail settings and the one-click unsubscribe link."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.alerts import services
from market.db import writes
from market.errors import DomainError
from market.extensions import csrf, db

bp = Blueprint("alerts", __name__)


@bp.route("/account/email", methods=["GET", "POST"])
@login_required
def preferences():
    rows = services.preferences(current_user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        chosen: dict[str, str] = {}
        for kind, current in rows:
            # A kind the form did not carry (registered since the page was loaded) stays as is.
            value = request.form.get(f"kind-{kind.key}", current.value)
            chosen[kind.key] = value
            try:
                services.set_preference(user=current_user, kind=kind.key, frequency=value)
            except DomainError as error:
                errors[kind.key] = error.message
        if not errors:
            db.session.commit()
            flash(_("Your e-mail settings are saved."), "success")
            return redirect(url_for("alerts.preferences"))
        # Nothing is saved unless all of it can be; the page keeps what the user chose.
        db.session.rollback()
        flash(_("Please choose one of the offered options for each kind of e-mail."), "error")
        rows = [(kind, chosen[kind.key]) for kind, _current in rows]
    return render_template(
        "alerts/preferences.html", rows=rows, errors=errors, labels=services.FREQUENCY_LABELS
    )


@bp.route("/email/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # mail clients POST here on their own (RFC 8058 one-click); the token is the proof
@writes
def unsubscribe(token: str):
    try:
        user, kind, undo_token = services.unsubscribe(token=token)
    except DomainError as error:
        db.session.rollback()
        abort(404, error.message)
    db.session.commit()
    if request.method == "POST" and request.form.get("List-Unsubscribe") == "One-Click":
        return "", 204
    return render_template("alerts/unsubscribed.html", user=user, kind=kind, token=undo_token)


@bp.post("/email/resubscribe/<token>")
@csrf.exempt  # the signed token names the user and kind; undoing needs no session either
def resubscribe(token: str):
    try:
        services.resubscribe(token=token)
    except DomainError:
        db.session.rollback()
        abort(404)
    db.session.commit()
    flash(_("You will receive these e-mails again."), "success")
    return redirect(url_for("site.home"))
