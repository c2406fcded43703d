"""The public bulletins: the archive, each bulletin, its PDF and tables, the Atom feed, and
subscribing by e-mail."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.bulletins import services
from market.bulletins.feed import atom_feed
from market.bulletins.models import Bulletin
from market.bulletins.pdf import pdf_for
from market.extensions import db
from market.prices.history import to_csv, to_xlsx
from market.site.downloads import file_response
from market.site.i18n import current_locale

bp = Blueprint("bulletins", __name__)

PER_PAGE = 20


@bp.app_template_filter("bulletin_period")
def _bulletin_period(bulletin: Bulletin) -> str:
    return services.period_label(bulletin.period_kind, bulletin.period_start, bulletin.period_end)


def filename(bulletin: Bulletin, extension: str) -> str:
    return (
        f"ban-tin-gia-{bulletin.period_kind}-{bulletin.period_start.isoformat()}"
        f"-v{bulletin.version}.{extension}"
    )


def pdf_response(bulletin: Bulletin) -> Response:
    response = file_response(
        pdf_for(bulletin, locale=current_locale()), filename(bulletin, "pdf"), inline=True
    )
    if bulletin.is_published:
        # A published version never changes: phones need not fetch it twice.
        response.cache_control.public = True
        response.cache_control.max_age = 24 * 3600
    else:
        response.cache_control.no_store = True
    response.vary.add("Cookie")  # the language
    return response


def table_response(bulletin: Bulletin, kind: str) -> Response:
    rows = services.table_rows(bulletin)
    if kind == "csv":
        return file_response(to_csv(services.TABLE_COLUMNS, rows), filename(bulletin, "csv"))
    data = to_xlsx(services.TABLE_COLUMNS, rows, sheet=f"{bulletin.period_start.isoformat()}")
    return file_response(data, filename(bulletin, "xlsx"))


@bp.get("/bulletins")
def archive():
    page = max(1, request.args.get("page", 1, type=int) or 1)
    bulletins, total = services.published(page=page, per_page=PER_PAGE)
    return render_template(
        "bulletins/archive.html",
        bulletins=bulletins,
        page=page,
        more=page * PER_PAGE < total,
        subscribed=services.is_subscribed(current_user),
    )


@bp.post("/bulletins/subscribe")
@login_required
def subscribe():
    services.subscribe(actor=current_user)
    db.session.commit()
    flash(
        _("Subscribed: each new bulletin will come to %(email)s.", email=current_user.email),
        "success",
    )
    return redirect(url_for("bulletins.archive"))


@bp.post("/bulletins/unsubscribe")
@login_required
def unsubscribe():
    services.unsubscribe(actor=current_user)
    db.session.commit()
    flash(_("You will no longer receive the bulletins by e-mail."), "info")
    return redirect(url_for("bulletins.archive"))


def _published_or_404(bulletin_id: int) -> Bulletin:
    bulletin = services.get_published(bulletin_id)
    if bulletin is None:
        abort(404)
    return bulletin


@bp.get("/bulletins/<int:bulletin_id>")
def show(bulletin_id: int):
    bulletin = _published_or_404(bulletin_id)
    versions = services.versions_of(bulletin)
    return render_template(
        "bulletins/show.html",
        preview=False,
        versions=versions,
        current=services.current_of(versions),
        **services.presentation(bulletin),
    )


@bp.get("/bulletins/<int:bulletin_id>.pdf")
def pdf(bulletin_id: int):
    return pdf_response(_published_or_404(bulletin_id))


@bp.get("/bulletins/<int:bulletin_id>.<any(csv, xlsx):kind>")
def table(bulletin_id: int, kind: str):
    return table_response(_published_or_404(bulletin_id), kind)


@bp.get("/bulletins.atom")
def feed():
    bulletins, _total = services.published(page=1, per_page=30)
    return Response(atom_feed(bulletins, locale=current_locale()), mimetype="application/atom+xml")
