"""The department's bulletin desk: draft, edit, preview, publish, correct."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from market.bulletins import services
from market.bulletins.forms import BulletinForm, CorrectionForm, DraftForm
from market.bulletins.models import Bulletin, BulletinItem
from market.bulletins.views import pdf_response
from market.errors import DomainError
from market.extensions import db
from market.forms import show_error

bp = Blueprint("bulletins_admin", __name__, url_prefix="/department/bulletins")


def _bulletin_or_404(bulletin_id: int) -> Bulletin:
    bulletin = services.get_for_staff(actor=current_user, bulletin_id=bulletin_id)
    if bulletin is None:
        abort(404)
    return bulletin


def _render_overview(form: DraftForm, status: int = 200):
    bulletins = services.staff_list(actor=current_user)
    return render_template("bulletins_admin/list.html", bulletins=bulletins, form=form), status


@bp.get("/")
@login_required
def overview():
    return _render_overview(DraftForm())


@bp.post("/draft")
@login_required
def draft():
    form = DraftForm()
    if not form.validate_on_submit():
        return _render_overview(form, 400)
    try:
        outcome = services.draft_bulletin(
            actor=current_user, period=form.period.data, day=form.day.data
        )
    except DomainError as error:
        db.session.rollback()
        show_error(form, error)
        return _render_overview(form, 400)
    db.session.commit()
    flash(
        _("The draft is ready: check it, write the commentary, then publish.")
        if outcome.created
        else _("The existing draft was recomputed from the latest prices; your edits are kept."),
        "success",
    )
    return redirect(url_for("bulletins_admin.edit", bulletin_id=outcome.bulletin.id))


@bp.post("/<int:bulletin_id>/recompute")
@login_required
def recompute(bulletin_id: int):
    bulletin = _bulletin_or_404(bulletin_id)
    try:
        services.draft_bulletin(
            actor=current_user, period=bulletin.period_kind, day=bulletin.period_start
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Recomputed from the latest prices; your edits are kept."), "success")
    return redirect(url_for("bulletins_admin.edit", bulletin_id=bulletin_id))


@dataclass
class RowView:
    item: BulletinItem
    included: bool
    position: str
    note: str
    error: str | None = None  # of the order number
    note_error: str | None = None


@dataclass
class SectionView:
    key: str
    label: Any
    on: bool
    position: str


def _typed_rows(bulletin: Bulletin, data: MultiDict | None):
    """Each row as the official last saw or typed it, and the choices when all are valid."""
    rows, choices = [], {}
    for item in bulletin.items:
        if data is None:
            rows.append(RowView(item, item.included, str(item.position), item.note or ""))
            continue
        row = RowView(
            item,
            data.get(f"item-{item.id}-included") == "y",
            data.get(f"item-{item.id}-position", "").strip(),
            data.get(f"item-{item.id}-note", ""),
        )
        try:
            position = int(row.position)
        except ValueError:
            row.error = _("Write a whole number.")
        else:
            choices[item.id] = services.ItemChoice(row.included, position, row.note)
        rows.append(row)
    return rows, choices


def _mark_row(rows: list[RowView], error: DomainError) -> bool:
    """Put a service's message about one row's note next to that row."""
    for row in rows:
        if error.field == f"item-{row.item.id}-note":
            row.note_error = error.message
            return True
    return False


def _typed_sections(bulletin: Bulletin, data: MultiDict | None):
    chosen = list(bulletin.sections or [])
    views = []
    for index, key in enumerate(services.sections_available(bulletin)):
        if data is None:
            on = key in chosen
            position = str((chosen.index(key) if on else len(chosen) + index) + 1)
        else:
            on = data.get(f"section-{key}") == "y"
            position = data.get(f"section-{key}-position", "").strip()
        views.append(SectionView(key, services.SECTIONS[key], on, position))

    def order(view: SectionView) -> int:
        try:
            return int(view.position)
        except ValueError:
            return 999

    ordered = sorted(views, key=order)
    return ordered, [v.key for v in ordered if v.on]


def _render_edit(bulletin, form, rows, sections, status=200):
    return render_template(
        "bulletins_admin/edit.html",
        bulletin=bulletin,
        form=form,
        rows=rows,
        sections=sections,
        groups=_groups(rows),
        max_note=services.MAX_NOTE,
    ), status


def _groups(rows: list[RowView]) -> list[tuple[Any, list[RowView]]]:
    """Rows under their commodity, in the order of their first row."""
    groups: dict[int, list[RowView]] = {}
    for row in rows:
        groups.setdefault(row.item.commodity_id, []).append(row)
    return [(members[0].item.commodity, members) for members in groups.values()]


@bp.route("/<int:bulletin_id>/edit", methods=["GET", "POST"])
@login_required
def edit(bulletin_id: int):
    bulletin = _bulletin_or_404(bulletin_id)
    if not bulletin.is_draft:
        flash(_("A published bulletin cannot be changed. Publish a correction instead."), "info")
        return redirect(url_for("bulletins_admin.preview", bulletin_id=bulletin.id))
    form = BulletinForm(obj=bulletin)
    data = request.form if request.method == "POST" else None
    rows, choices = _typed_rows(bulletin, data)
    sections, chosen_sections = _typed_sections(bulletin, data)
    if request.method == "POST":
        valid = form.validate_on_submit()
        if not valid or any(row.error for row in rows):
            flash(_("Please correct the marked fields."), "error")
            return _render_edit(bulletin, form, rows, sections, 400)
        try:
            services.update_bulletin(
                actor=current_user,
                bulletin=bulletin,
                title=form.title.data,
                commentary=form.commentary.data or "",
                sections=chosen_sections,
                items=choices,
                correction_note=form.correction_note.data,
            )
        except DomainError as error:
            db.session.rollback()
            if _mark_row(rows, error):
                flash(_("Please correct the marked fields."), "error")
            else:
                show_error(form, error)
            return _render_edit(bulletin, form, rows, sections, 400)
        db.session.commit()
        if request.form.get("action") == "preview":
            return redirect(url_for("bulletins_admin.preview", bulletin_id=bulletin.id))
        flash(_("The draft is saved."), "success")
        return redirect(url_for("bulletins_admin.edit", bulletin_id=bulletin.id))
    return _render_edit(bulletin, form, rows, sections)


def _render_preview(bulletin: Bulletin, correction_form: CorrectionForm, status: int = 200):
    """The reader's page, exactly, with the desk's buttons around it."""
    versions = services.versions_of(bulletin, include_drafts=True)
    return render_template(
        "bulletins/show.html",
        preview=True,
        correction_form=correction_form,
        versions=versions,
        current=services.current_of(versions),
        **services.presentation(bulletin),
    ), status


@bp.get("/<int:bulletin_id>/preview")
@login_required
def preview(bulletin_id: int):
    return _render_preview(_bulletin_or_404(bulletin_id), CorrectionForm())


@bp.get("/<int:bulletin_id>/preview.pdf")
@login_required
def preview_pdf(bulletin_id: int):
    return pdf_response(_bulletin_or_404(bulletin_id))


@bp.post("/<int:bulletin_id>/publish")
@login_required
def publish(bulletin_id: int):
    bulletin = _bulletin_or_404(bulletin_id)
    try:
        queued = services.publish_bulletin(actor=current_user, bulletin=bulletin)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("bulletins_admin.preview", bulletin_id=bulletin_id))
    db.session.commit()
    flash(
        _("Published. %(n)d subscribers will receive it by e-mail.", n=queued),
        "success",
    )
    return redirect(url_for("bulletins.show", bulletin_id=bulletin_id))


@bp.post("/<int:bulletin_id>/correct")
@login_required
def correct(bulletin_id: int):
    bulletin = _bulletin_or_404(bulletin_id)
    form = CorrectionForm()
    if not form.validate_on_submit():
        return _render_preview(bulletin, form, 400)
    try:
        correction = services.correct_bulletin(
            actor=current_user, bulletin=bulletin, note=form.note.data
        )
    except DomainError as error:
        db.session.rollback()
        show_error(form, error)
        return _render_preview(bulletin, form, 400)
    db.session.commit()
    flash(_("Correction drafted: edit it, then publish it."), "success")
    return redirect(url_for("bulletins_admin.edit", bulletin_id=correction.id))


@bp.post("/<int:bulletin_id>/discard")
@login_required
def discard(bulletin_id: int):
    bulletin = _bulletin_or_404(bulletin_id)
    try:
        services.discard_draft(actor=current_user, bulletin=bulletin)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("bulletins_admin.preview", bulletin_id=bulletin_id))
    db.session.commit()
    flash(_("The draft is discarded."), "info")
    return redirect(url_for("bulletins_admin.overview"))
