"""Sign-up, log-in, e-mail verification, forgotten passwords and the user's own settings."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from market.accounts import services
from market.accounts.forms import (
    ChangePasswordForm,
    EmailForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
    SignUpForm,
)
from market.db import writes
from market.errors import DomainError
from market.extensions import db, limiter
from market.forms import show_error
from market.site.i18n import current_locale
from market.urls import safe_next

bp = Blueprint("accounts", __name__)


def _safe_next(default: str) -> str:
    return safe_next(request.args.get("next") or request.form.get("next"), default)


def _start_session(user, *, remember: bool = False) -> None:
    # A fresh session at login: nothing from before the login survives into it.
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(user, remember=remember)


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("site.home"))
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            user = services.sign_up(
                email=form.email.data,
                password=form.password.data,
                name=form.name.data,
                phone=form.phone.data,
                organisation_name=form.organisation_name.data,
                organisation_kind=form.organisation_kind.data,
                locale=current_locale(),
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            session["signup_email"] = user.email
            return redirect(url_for("accounts.signup_sent"))
    return render_template("accounts/signup.html", form=form)


@bp.get("/signup/sent")
def signup_sent():
    return render_template(
        "accounts/signup_sent.html", email=session.get("signup_email"), form=EmailForm()
    )


@bp.get("/verify/<token>")
@writes
def verify_email(token: str):
    try:
        user = services.verify_email(token=token)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("accounts.resend_verification"))
    db.session.commit()
    flash(_("Thank you, your e-mail address is confirmed. You can log in now."), "success")
    if current_user.is_authenticated:
        return redirect(url_for("orgs.my_organisation"))
    return redirect(url_for("accounts.login", email=user.email))


@bp.route("/verify/resend", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def resend_verification():
    form = EmailForm()
    if form.validate_on_submit():
        services.resend_verification(email=form.email.data)
        db.session.commit()
        flash(_("If that address has an unconfirmed account, we have sent a new link."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/resend.html", form=form)


def _login_failed(_response) -> bool:
    return bool(g.get("login_failed"))


def _account_key() -> str:
    return "account:" + services.normalise_email(request.form.get("email", ""))


def _login_limit() -> str:
    return current_app.config["MARKET_LOGIN_LIMITS"]


@bp.route("/login", methods=["GET", "POST"])
# Failed attempts count per address and per account: a guesser cannot hide behind many
# accounts or many addresses. Each web process counts alone unless Redis storage is set.
@limiter.limit(
    _login_limit, methods=["POST"], key_func=get_remote_address, deduct_when=_login_failed
)
@limiter.limit(_login_limit, methods=["POST"], key_func=_account_key, deduct_when=_login_failed)
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(url_for("site.home")))
    form = LoginForm(email=request.args.get("email"))
    unverified = False
    if form.validate_on_submit():
        try:
            user = services.authenticate(email=form.email.data, password=form.password.data)
        except DomainError as error:
            db.session.rollback()
            g.login_failed = error.field != "unverified"
            unverified = error.field == "unverified"
            flash(error.message, "error")
        else:
            db.session.commit()
            _start_session(user, remember=form.remember.data)
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(_safe_next(url_for("orgs.my_organisation")))
    return render_template("accounts/login.html", form=form, unverified=unverified)


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("site.home"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def forgot_password():
    form = EmailForm()
    if form.validate_on_submit():
        services.request_password_reset(email=form.email.data)
        db.session.commit()
        flash(
            _("If an account uses that address, we have sent it a link to choose a new password."),
            "info",
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.reset_password(token=token, password=form.password.data)
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            _start_session(user)
            flash(_("Your new password is saved. Other devices have been logged out."), "success")
            return redirect(url_for("site.home"))
    return render_template("accounts/reset.html", form=form)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile():
    profile_form = ProfileForm(obj=current_user, prefix="profile")
    password_form = ChangePasswordForm(prefix="password")
    if request.method == "POST":
        if "profile-name" in request.form:
            done = _save_profile(profile_form)
        else:
            done = _change_password(password_form)
        if done:
            return redirect(url_for("accounts.profile"))
    return render_template(
        "accounts/profile.html", profile_form=profile_form, password_form=password_form
    )


def _save_profile(form: ProfileForm) -> bool:
    if not form.validate():
        return False
    try:
        services.update_profile(
            user=current_user, name=form.name.data, phone=form.phone.data, locale=form.locale.data
        )
    except DomainError as error:
        db.session.rollback()
        show_error(form, error)
        return False
    db.session.commit()
    session["locale"] = current_user.locale
    flash(_("Your profile is saved."), "success")
    return True


def _change_password(form: ChangePasswordForm) -> bool:
    if not form.validate():
        return False
    try:
        services.change_password(
            user=current_user,
            current_password=form.current_password.data,
            new_password=form.new_password.data,
        )
    except DomainError as error:
        db.session.rollback()
        show_error(form, error)
        return False
    db.session.commit()
    # This device stays logged in under the new session version; the others are logged out.
    _start_session(current_user._get_current_object())
    flash(_("Your new password is saved. Other devices have been logged out."), "success")
    return True
