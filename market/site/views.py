"""The home page, the language switch and the health check."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import text

from market.accounts.services import update_profile
from market.db import writes
from market.extensions import db
from market.site.i18n import LOCALE_COOKIE
from market.site.services import home_summary
from market.urls import safe_next

bp = Blueprint("site", __name__)


@bp.get("/")
def home():
    return render_template("site/home.html", **home_summary())


@bp.get("/language/<code>")
@writes
def switch_language(code: str):
    """A plain link, so public pages carry no per-visitor form token and can be shared."""
    return _choose_language(code, request.args.get("next"))


@bp.post("/language")
def set_language():
    return _choose_language(request.form.get("locale", ""), request.form.get("next"))


def _choose_language(locale: str, target: str | None):
    if locale in current_app.config["MARKET_LOCALES"]:
        session["locale"] = locale
        if current_user.is_authenticated:
            update_profile(
                user=current_user, name=current_user.name, phone=current_user.phone, locale=locale
            )
            db.session.commit()
    response = redirect(safe_next(target, url_for("site.home")))
    response.set_cookie(
        LOCALE_COOKIE,
        session.get("locale", "vi"),
        max_age=365 * 24 * 3600,
        samesite="Lax",
        httponly=True,
    )
    return response


@bp.get("/healthz")
def healthz():
    db.session.execute(text("SELECT 1"))
    return jsonify({"status": "ok"})
