"""The department's area: verification of organisations and certificates, the audit log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from market.admin import services
from market.alerts import services as alerts
from market.audit.services import recent_events
from market.errors import DomainError
from market.extensions import db
from market.orgs import services as orgs
from market.orgs.forms import CheckCertificationForm, ReasonForm
from market.orgs.models import OrganisationStatus

bp = Blueprint("admin", __name__, url_prefix="/department")


@bp.get("/")
@login_required
def dashboard():
    return render_template("admin/dashboard.html", **services.dashboard(actor=current_user))


@bp.get("/verification")
@login_required
def verification_queue():
    status = request.args.get("status", "pending")
    if status not in OrganisationStatus.__members__:
        status = "pending"
    rows = (
        orgs.verification_queue(actor=current_user)
        if status == "pending"
        else orgs.organisations_by_status(actor=current_user, status=OrganisationStatus(status))
    )
    return render_template(
        "admin/queue.html", organisations=rows, status=status, labels=orgs.STATUS_LABELS
    )


def _organisation_or_404(organisation_id: int):
    return orgs.get_organisation_by_id(organisation_id) or abort(404)


@bp.get("/organisations/<int:organisation_id>")
@login_required
def review(organisation_id: int):
    organisation = orgs.organisation_for_review(
        actor=current_user, organisation_id=organisation_id
    ) or abort(404)
    return _render_review(organisation, ReasonForm(), CheckCertificationForm())


def _render_review(organisation, reason_form, check_form, status: int = 200):
    return render_template(
        "admin/review.html",
        organisation=organisation,
        reason_form=reason_form,
        check_form=check_form,
        events=recent_events(subject=organisation, limit=50),
    ), status


@bp.post("/organisations/<int:organisation_id>/verify")
@login_required
def verify(organisation_id: int):
    organisation = _organisation_or_404(organisation_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _render_review(organisation, form, CheckCertificationForm(), 400)
    orgs.verify_organisation(actor=current_user, organisation=organisation, note=form.reason.data)
    db.session.commit()
    flash(_("%(name)s is verified.", name=organisation.name), "success")
    return redirect(url_for("admin.verification_queue"))


@bp.post("/organisations/<int:organisation_id>/suspend")
@login_required
def suspend(organisation_id: int):
    organisation = _organisation_or_404(organisation_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            orgs.suspend_organisation(
                actor=current_user, organisation=organisation, reason=form.reason.data
            )
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("%(name)s is suspended.", name=organisation.name), "info")
            return redirect(url_for("admin.verification_queue"))
    return _render_review(organisation, form, CheckCertificationForm(), 400)


@bp.post("/certifications/<int:certification_id>/check")
@login_required
def check_certification(certification_id: int):
    certification = orgs.get_certification(certification_id) or abort(404)
    form = CheckCertificationForm()
    if form.validate_on_submit():
        try:
            orgs.check_certification(
                actor=current_user,
                certification=certification,
                status=form.status.data,
                note=form.note.data,
            )
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
            return _render_review(certification.organisation, ReasonForm(), form, 400)
        db.session.commit()
        flash(_("The certificate check is recorded."), "success")
    return redirect(url_for("admin.review", organisation_id=certification.organisation_id))


@bp.get("/audit")
@login_required
def audit_log():
    return render_template("admin/audit.html", events=services.audit_log(actor=current_user))


@bp.get("/outbox")
@login_required
def outbox():
    from market.scheduler import services as scheduler

    summary = alerts.outbox_summary(actor=current_user)
    return render_template(
        "admin/outbox.html",
        **summary,
        lock=scheduler.lock_holder(),
        runs=scheduler.last_runs(),
        run_labels=scheduler.RUN_STATUS_LABELS,
    )


@bp.post("/outbox/retry")
@login_required
def retry_outbox():
    message_id = request.form.get("message_id", type=int)
    count = alerts.retry_failed(actor=current_user, message_id=message_id)
    db.session.commit()
    flash(
        ngettext("%(num)d e-mail is queued again.", "%(num)d e-mails are queued again.", count),
        "success",
    )
    return redirect(url_for("admin.outbox"))
