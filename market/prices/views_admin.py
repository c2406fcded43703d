"""The department's price desk: sources and their runs, review, unmapped names, manual entry
and file imports."""

from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from market.catalogue import services as catalogue
from market.errors import DomainError
from market.extensions import db
from market.forms import options, show_error
from market.permissions import can, require
from market.prices import collect, imports, services
from market.prices.forms import ImportForm, ManualPriceForm, ReviewForm, SourceForm
from market.prices.models import UnmappedName
from market.site.i18n import current_locale

bp = Blueprint("prices_admin", __name__, url_prefix="/department/prices")


@bp.app_template_filter("price_type")
def _price_type(value: str) -> str:
    return str(services.PRICE_TYPE_LABELS.get(value, value))


RUN_STATUS = {
    "running": _l("running"),
    "ok": _l("complete"),
    "partial": _l("partial"),
    "failed": _l("failed"),
}
IMPORT_OUTCOMES = {
    "new": _l("new"),
    "update": _l("changed"),
    "unchanged": _l("unchanged"),
    "flagged": _l("doubtful"),
    "rejected": _l("rejected"),
}


@bp.app_template_filter("run_status")
def _run_status(value: str) -> str:
    return str(RUN_STATUS.get(value, value))


@bp.app_template_filter("import_outcome")
def _import_outcome(value: str) -> str:
    return str(IMPORT_OUTCOMES.get(value, value))


@bp.get("/")
@login_required
def overview():
    require(current_user, "review", "prices")
    sources = services.sources()
    return render_template(
        "prices_admin/overview.html",
        sources=[(s, services.source_health(s)) for s in sources],
        runs=services.recent_runs(limit=20),
        flagged=services.count_flagged(),
        unmapped=collect.count_unmapped(),
        can_manage=can(current_user, "manage", "price_sources"),
    )


def _source_form(source=None) -> SourceForm:
    form = SourceForm(obj=source)
    if request.method == "GET" and source is not None:
        form.settings.data = json.dumps(source.settings or {}, ensure_ascii=False, indent=2)
    return form


@bp.route("/sources/new", methods=["GET", "POST"])
@bp.route("/sources/<int:source_id>", methods=["GET", "POST"])
@login_required
def source(source_id: int | None = None):
    require(current_user, "review", "prices")
    source = services.get_source(source_id=source_id) if source_id else None
    if source_id and source is None:
        abort(404)
    form = _source_form(source)
    if form.validate_on_submit():
        try:
            settings = json.loads(form.settings.data or "{}")
        except json.JSONDecodeError as exc:
            form.settings.errors = [_("Not valid JSON: %(error)s", error=exc.msg)]
        else:
            try:
                saved, _created = services.save_source(
                    actor=current_user,
                    name=form.name.data,
                    kind=form.kind.data,
                    url=form.url.data,
                    schedule=form.schedule.data,
                    default_price_type=form.default_price_type.data,
                    settings=settings,
                    enabled=form.enabled.data,
                    respect_robots=form.respect_robots.data,
                    description=form.description.data,
                )
            except DomainError as error:
                db.session.rollback()
                show_error(form, error)
            else:
                db.session.commit()
                flash(
                    _("The source is saved; the scheduler picks the change up within a minute."),
                    "success",
                )
                return redirect(url_for("prices_admin.source", source_id=saved.id))
    runs = services.recent_runs(source=source, limit=30) if source else []
    return render_template(
        "prices_admin/source.html",
        source=source,
        form=form,
        runs=runs,
        health=services.source_health(source, runs) if source else None,
        can_edit=can(current_user, "manage", "price_sources"),
    )


@bp.post("/sources/<int:source_id>/collect")
@login_required
def collect_now(source_id: int):
    source = services.get_source(source_id=source_id) or abort(404)
    services.request_collection(actor=current_user, source=source)
    db.session.commit()
    flash(_("Collection requested: the scheduler runs it within a minute."), "info")
    return redirect(url_for("prices_admin.source", source_id=source.id))


@bp.get("/runs/<int:run_id>")
@login_required
def run(run_id: int):
    require(current_user, "review", "prices")
    run = services.get_run(run_id) or abort(404)
    return render_template("prices_admin/run.html", run=run)


@bp.get("/warnings")
@login_required
def warnings():
    from market.prices.series import warnings as current_warnings

    require(current_user, "review", "prices")
    return render_template("prices_admin/warnings.html", warnings=current_warnings())


@bp.get("/review")
@login_required
def review():
    return render_template(
        "prices_admin/review.html",
        observations=services.flagged_observations(actor=current_user),
        form=ReviewForm(),
    )


@bp.post("/review/<int:observation_id>")
@login_required
def review_one(observation_id: int):
    observation = services.get_observation(observation_id) or abort(404)
    form = ReviewForm()
    accept = request.form.get("decision") == "accept"
    if form.validate_on_submit():
        try:
            services.review_observation(
                actor=current_user, observation=observation, accept=accept, reason=form.reason.data
            )
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(
                _("The price is published.") if accept else _("The price is rejected."), "success"
            )
    return redirect(url_for("prices_admin.review"))


@bp.get("/unmapped")
@login_required
def unmapped():
    names = collect.unmapped_names(actor=current_user)
    commodity_choices = [(c.id, catalogue.commodity_label(c)) for c in catalogue.commodities()]
    market_choices = [(m.id, m.name) for m in services.markets()]
    return render_template(
        "prices_admin/unmapped.html",
        names=names,
        commodity_choices=commodity_choices,
        market_choices=market_choices,
    )


@bp.post("/unmapped/<int:name_id>")
@login_required
def map_name(name_id: int):
    name = db.session.get(UnmappedName, name_id) or abort(404)
    target = request.form.get("target", type=int)
    try:
        stored = collect.map_name(
            actor=current_user,
            name=name,
            commodity_id=target if name.kind == "commodity" else None,
            market_id=target if name.kind == "market" else None,
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Mapped. %(n)d held prices are now stored.", n=stored), "success")
    return redirect(url_for("prices_admin.unmapped"))


def _manual_choices(form: ManualPriceForm) -> None:
    form.commodity_id.choices = options(
        [("", "—")] + [(c.id, catalogue.commodity_label(c)) for c in catalogue.commodities()]
    )
    form.market_id.choices = options([("", "—")] + [(m.id, m.name) for m in services.markets()])
    locale = current_locale()
    form.unit_code.choices = options((u.code, u.name(locale)) for u in catalogue.units())


@bp.route("/new", methods=["GET", "POST"])
@login_required
def enter():
    require(current_user, "review", "prices")
    form = ManualPriceForm()
    _manual_choices(form)
    if request.method == "GET":
        form.observed_on.data = date.today()
        form.unit_code.data = "kg"
        form.price_type.data = "wholesale"
    if form.validate_on_submit():
        try:
            _observation, doubt = services.enter_price(
                actor=current_user,
                commodity_id=form.commodity_id.data,
                market_id=form.market_id.data,
                price_type=form.price_type.data,
                price_text=form.price.data,
                unit_code=form.unit_code.data,
                observed_on=form.observed_on.data,
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            flash(_("The price is saved."), "success")
            if doubt:
                flash(_("Please check it: %(doubt)s.", doubt=doubt), "info")
            return redirect(url_for("prices_admin.enter"))
    elif request.method == "POST":
        flash(_("Please correct the fields marked below."), "error")
    return render_template("prices_admin/enter.html", form=form)


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_file():
    require(current_user, "review", "prices")
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        if not upload or not getattr(upload, "filename", ""):
            form.file.errors = [_("Choose a file.")]
        else:
            try:
                token = imports.save_upload(
                    actor=current_user, data=upload.read(), filename=upload.filename
                )
                preview = imports.preview_import(actor=current_user, token=token)
            except DomainError as error:
                db.session.rollback()
                form.file.errors = [error.message]
            else:
                db.session.rollback()  # a preview stores nothing
                return render_template("prices_admin/import_preview.html", preview=preview)
    return render_template("prices_admin/import.html", form=form)


@bp.post("/import/<token>")
@login_required
def confirm_import(token: str):
    if request.form.get("decision") == "cancel":
        imports.discard_upload(token)
        flash(_("The import is cancelled; nothing was stored."), "info")
        return redirect(url_for("prices_admin.import_file"))
    try:
        preview = imports.commit_import(actor=current_user, token=token)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("prices_admin.import_file"))
    db.session.commit()
    flash(
        _(
            "%(n)d prices imported; %(r)d rows rejected.",
            n=preview.accepted,
            r=preview.count("rejected"),
        ),
        "success",
    )
    return redirect(url_for("prices_admin.overview"))
