"""Organisation profiles: the public directory and a member's own organisation."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.catalogue import services as catalogue
from market.catalogue.models import HOME_PROVINCE_CODE
from market.errors import DomainError
from market.extensions import db
from market.forms import options, show_error
from market.orgs import services
from market.orgs.forms import CertificationForm, OrganisationForm

bp = Blueprint("orgs", __name__)


@bp.app_template_filter("org_kind")
def _org_kind(value: str) -> str:
    return str(services.KIND_LABELS.get(value, value))


@bp.app_template_filter("cert_kind")
def _cert_kind(value: str) -> str:
    return str(services.CERTIFICATION_LABELS.get(value, value))


@bp.app_template_filter("cert_status")
def _cert_status(value: str) -> str:
    return str(services.CERTIFICATION_STATUS_LABELS.get(value, value))


@bp.get("/orgs")
def directory():
    query = request.args.get("q", "")
    kind = request.args.get("kind") or None
    ward = request.args.get("ward") or None
    return render_template(
        "orgs/directory.html",
        organisations=services.directory(query=query, kind=kind, ward_code=ward),
        query=query,
        kind=kind,
        ward=ward,
        wards=catalogue.home_wards(),
        kinds=services.KIND_LABELS,
    )


@bp.get("/orgs/<slug>")
def profile(slug: str):
    organisation = services.get_organisation(slug=slug, viewer=current_user)
    if organisation is None:
        abort(404)
    return render_template("orgs/profile.html", organisation=organisation)


def _fill_place_choices(form: OrganisationForm, organisation) -> None:
    province = form.province.data or (
        organisation.ward.province_code if organisation.ward else HOME_PROVINCE_CODE
    )
    form.province.choices = options((p.code, p.short_name) for p in catalogue.provinces())
    form.province.data = province
    form.ward_code.choices = options(
        [("", "—")] + [(w.code, w.name) for w in catalogue.wards_of(province)]
    )


def _fill_commodity_choices(form: CertificationForm) -> None:
    form.commodity_id.choices = options(
        [("", "—")] + [(c.id, catalogue.commodity_label(c)) for c in catalogue.commodities()]
    )


def _my_organisation_or_404():
    organisation = services.organisation_of(current_user)
    if organisation is None:
        abort(404)
    return organisation


@bp.route("/my/organisation", methods=["GET", "POST"])
@login_required
def my_organisation():
    organisation = services.organisation_of(current_user)
    if organisation is None:
        # Staff accounts have no organisation of their own.
        return redirect(url_for("admin.dashboard" if current_user.is_official else "site.home"))
    form = OrganisationForm(obj=organisation)
    _fill_place_choices(form, organisation)
    if form.validate_on_submit():
        try:
            reverify = services.update_organisation(
                actor=current_user,
                organisation=organisation,
                name=form.name.data,
                kind=form.kind.data,
                tax_code=form.tax_code.data,
                ward_code=form.ward_code.data,
                address=form.address.data,
                phone=form.phone.data,
                email=form.email.data,
                description=form.description.data,
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            flash(_("The profile is saved."), "success")
            if reverify:
                flash(
                    _(
                        "You changed the name, kind or tax code: "
                        "the department will verify the organisation again."
                    ),
                    "info",
                )
            return redirect(url_for("orgs.my_organisation"))
    elif request.method == "POST":
        flash(_("Please correct the fields marked below."), "error")
    certification_form = CertificationForm(prefix="cert")
    _fill_commodity_choices(certification_form)
    return render_template(
        "orgs/edit.html",
        organisation=organisation,
        form=form,
        certification_form=certification_form,
    )


@bp.post("/my/organisation/certifications")
@login_required
def add_certification():
    organisation = _my_organisation_or_404()
    form = CertificationForm(prefix="cert")
    _fill_commodity_choices(form)
    if form.validate_on_submit():
        upload = None
        if form.document.data and getattr(form.document.data, "filename", ""):
            upload = services.Upload(
                filename=form.document.data.filename, stream=form.document.data.stream
            )
        try:
            services.add_certification(
                actor=current_user,
                organisation=organisation,
                kind=form.kind.data,
                number=form.number.data,
                issuer=form.issuer.data,
                commodity_id=form.commodity_id.data,
                valid_from=form.valid_from.data,
                valid_until=form.valid_until.data,
                ocop_stars=form.ocop_stars.data,
                document=upload,
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            flash(_("The certificate is added. The department will check it."), "success")
            return redirect(url_for("orgs.my_organisation") + "#certifications")
    else:
        flash(_("Please correct the fields marked below."), "error")
    profile_form = OrganisationForm(obj=organisation)
    _fill_place_choices(profile_form, organisation)
    return render_template(
        "orgs/edit.html",
        organisation=organisation,
        form=profile_form,
        certification_form=form,
    ), 400


@bp.post("/my/organisation/certifications/<int:certification_id>/delete")
@login_required
def remove_certification(certification_id: int):
    certification = services.get_certification(certification_id) or abort(404)
    services.remove_certification(actor=current_user, certification=certification)
    db.session.commit()
    flash(_("The certificate is removed."), "info")
    return redirect(url_for("orgs.my_organisation") + "#certifications")


@bp.get("/certifications/<int:certification_id>/document")
@login_required
def certification_document(certification_id: int):
    certification = services.get_certification(certification_id) or abort(404)
    try:
        path = services.certification_document(viewer=current_user, certification=certification)
    except DomainError:
        abort(404)
    return send_file(
        path,
        mimetype=certification.document_type,
        download_name=certification.document_name or path.name,
        as_attachment=certification.document_type == "application/pdf",
        max_age=0,
    )
