"""What every page shares: login wiring, template helpers, navigation, errors, headers."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from market.errors import DomainError
from market.extensions import db, login_manager
from market.permissions import can
from market.site import nav
from market.site.i18n import current_locale, format_day, format_moment, format_money, format_number
from market.site.security import init_security_headers
from market.urls import safe_next


def init_site(app: Flask) -> None:
    from market.accounts.services import load_user_from_session

    login_manager.user_loader(load_user_from_session)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    init_security_headers(app)
    _register_template_helpers(app)
    _register_error_handlers(app)
    _register_navigation()
    app.config.setdefault("SEND_FILE_MAX_AGE_DEFAULT", 365 * 24 * 3600)


@cache
def _static_version(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]
    except OSError:
        return "0"


def _register_template_helpers(app: Flask) -> None:
    static_folder = app.static_folder or ""

    def static_url(filename: str) -> str:
        # The content hash in the URL lets phones cache assets for a year and still see changes.
        version = _static_version(str(Path(static_folder) / filename))
        return url_for("static", filename=filename, v=version)

    from market.audit.services import action_label

    app.jinja_env.filters.update(
        day=format_day,
        moment=format_moment,
        number=format_number,
        money=format_money,
        audit_action=action_label,
    )
    app.jinja_env.globals.update(
        static_url=static_url,
        can=lambda action, subject: can(current_user, action, subject),
        nav_items=lambda section="main": nav.items_for(current_user, section=section),
        current_locale=current_locale,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _back() -> str:
    """The page the user came from, when it is on this site; else the home page."""
    came_from = urlsplit(request.referrer or "")
    home = url_for("site.home")
    if came_from.netloc != request.host:
        return home
    return safe_next(came_from.path + (f"?{came_from.query}" if came_from.query else ""), home)


def _register_error_handlers(app: Flask) -> None:
    messages = {
        400: _l("The request could not be understood."),
        403: _l("You do not have permission to open this page."),
        404: _l("This page does not exist or has been moved."),
        405: _l("This action is not allowed here."),
        413: _l("The file is too large."),
        429: _l("Too many attempts. Please wait a minute and try again."),
        500: _l(
            "Something went wrong on our side. The error has been recorded; please try again later."
        ),
    }

    def render_error(code: int, message: str | None = None):
        text = message or str(messages.get(code, messages[500]))
        if _wants_json():
            return jsonify({"error": {"status": code, "message": text}}), code
        return render_template("errors/error.html", code=code, message=text), code

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        if code == 403 and not current_user.is_authenticated and not _wants_json():
            flash(_("Please log in to see this page."), "info")
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        return render_error(code)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render_error(
            400,
            _(
                "The form has expired or was sent from elsewhere. "
                "Please go back, reload the page and try again."
            ),
        )

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        """A rule said no where the view had no form to show it on (a button, a link): the
        message goes back to the page the user came from, and nothing was saved."""
        db.session.rollback()
        if _wants_json() or request.method == "GET":
            return render_error(400, exc.message)
        flash(exc.message, "error")
        return redirect(_back())

    @app.errorhandler(500)
    def server_error(exc: Exception):
        return render_error(500)


def _register_navigation() -> None:
    nav.register("site.home", _l("Home"), order=0)
    nav.register("prices.board", _l("Prices"), order=10)
    nav.register("bulletins.archive", _l("Bulletins"), order=15)
    nav.register("orgs.directory", _l("Organisations"), order=60)
    nav.register(
        "prices_admin.overview",
        _l("Price desk"),
        order=20,
        section="staff",
        visible=lambda user: can(user, "review", "prices"),
    )
    nav.register(
        "prices_admin.warnings",
        _l("Price warnings"),
        order=25,
        section="staff",
        visible=lambda user: can(user, "review", "prices"),
    )
    nav.register(
        "bulletins_admin.overview",
        _l("Bulletin desk"),
        order=30,
        section="staff",
        visible=lambda user: can(user, "edit", "bulletins"),
    )
    nav.register(
        "admin.outbox",
        _l("E-mail outbox"),
        order=80,
        section="staff",
        visible=lambda user: can(user, "view", "outbox"),
    )
    nav.register(
        "admin.dashboard",
        _l("Department"),
        order=90,
        visible=lambda user: can(user, "view", "official_area"),
    )
