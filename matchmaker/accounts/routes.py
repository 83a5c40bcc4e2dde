from __future__ import annotations

import hashlib

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, refresh
from flask_login import current_user, login_user, logout_user

from matchmaker.accounts import access_tokens, services
from matchmaker.accounts.forms import (
    ROLE_LABELS,
    TOKEN_SCOPE_LABELS,
    ChangeEmailForm,
    ChangePasswordForm,
    CreateTokenForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    LogoutForm,
    ResendConfirmationForm,
    ResetPasswordForm,
    RevokeTokenForm,
    SignupForm,
)
from matchmaker.accounts.models import AccessToken, TokenScope
from matchmaker.alerts.services import MAX_SAVED_SEARCHES
from matchmaker.alerts.services import summaries as saved_search_summaries
from matchmaker.core.auth import acting_user, public
from matchmaker.core.errors import DomainError
from matchmaker.core.forms import form_status, show_domain_error
from matchmaker.core.i18n import gettext as _
from matchmaker.core.i18n import remember_language
from matchmaker.core.security import (
    configured_limit,
    current_user_key,
    password_checks,
    rotate_csrf_token,
    safe_next_path,
)
from matchmaker.core.tokens import InvalidToken
from matchmaker.extensions import db, limiter

bp = Blueprint("accounts", __name__)
# In the session of the browser that signed up: the address, whose confirmation link signs in.
SIGNED_UP_AS = "signed_up_as"


def _submitted_account() -> str:
    """The rate-limit key of the account a form names, whatever address the request came from."""
    email = services.normalise_email(request.form.get("email", ""))
    return "account:" + hashlib.sha256(email.encode()).hexdigest()


def _failed(response: Response) -> bool:
    """A log-in or reset form shown again (an error) rather than a redirect or a 200 answer."""
    return response.status_code >= 400


def _next_url() -> str:
    return safe_next_path(request.args.get("next")) or url_for("core.home")


@bp.route("/signup", methods=["GET", "POST"])
@public
@limiter.limit(lambda: configured_limit("RATELIMIT_SIGNUP"), methods=["POST"])
def signup() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            services.register_user(
                email=form.email.data,
                display_name=form.display_name.data,
                password=form.password.data,
                language=str(get_locale()),
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()
            # Its confirmation link signs in this browser only (set for a known address too, so
            # the answer is the same).
            session[SIGNED_UP_AS] = services.normalise_email(form.email.data)
            return render_template("accounts/check_email.html", email=form.email.data)
    return render_template("accounts/signup.html", form=form), form_status(form)


@bp.get("/confirm/<token>")
@public
def confirm_email(token: str) -> ResponseReturnValue:
    try:
        user, first_time = services.confirm_email(token)
    except InvalidToken as error:
        flash(
            _("This confirmation link has expired. Sign in to get a new one.")
            if error.expired
            else _("This confirmation link is not valid."),
            "error",
        )
        return redirect(url_for("accounts.login"))
    db.session.commit()
    flash(_("Thank you, your email address is confirmed."), "success")
    signed_up_here = session.pop(SIGNED_UP_AS, None) == user.email
    if not current_user.is_authenticated and first_time and user.is_active and signed_up_here:
        # The link just proved the address is theirs: they go on signed in. Only the first
        # click does this; a link found later in a mailbox is no way into the account. And
        # only in the browser that signed up: a link forwarded unclicked to someone else
        # would sign them in to the sender's account (login CSRF).
        login_user(user)
        rotate_csrf_token()
    if current_user.is_authenticated:
        return redirect(url_for("organisations.mine"))
    return redirect(url_for("accounts.login"))


@bp.post("/confirm/resend")
@limiter.limit(lambda: configured_limit("RATELIMIT_ACCOUNT_MAIL"), key_func=current_user_key)
def resend_confirmation() -> ResponseReturnValue:
    if ResendConfirmationForm().validate_on_submit() and not current_user.is_email_confirmed:
        services.send_confirmation(acting_user())
        db.session.commit()  # the confirmation mail goes out after commit
        flash(
            _("We have sent a new confirmation link to %(email)s.", email=current_user.email),
            "info",
        )
    return redirect(url_for("accounts.account"))


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: configured_limit("RATELIMIT_LOGIN"), methods=["POST"])
@limiter.limit(
    lambda: configured_limit("RATELIMIT_LOGIN_ACCOUNT"),
    key_func=_submitted_account,
    methods=["POST"],
    deduct_when=_failed,
)
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(_next_url())
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(email=form.email.data, password=form.password.data)
        if user is None:
            form.form_errors.append(_("The email address or password is not correct."))
        else:
            db.session.commit()
            login_user(user, remember=form.remember.data)
            rotate_csrf_token()
            flash(_("Welcome back, %(name)s.", name=user.display_name), "success")
            return redirect(_next_url())
    return render_template("accounts/login.html", form=form), form_status(form)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    if LogoutForm().validate_on_submit():
        # Ends this login on the server too: a copied session or remember-me cookie stops working.
        services.sign_out(acting_user())
        db.session.commit()
        logout_user()
        flash(_("You are signed out."), "info")
    return redirect(url_for("core.home"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
@limiter.limit(lambda: configured_limit("RATELIMIT_RESET"), methods=["POST"])
@limiter.limit(
    lambda: configured_limit("RATELIMIT_RESET_ACCOUNT"),
    key_func=_submitted_account,
    methods=["POST"],
)
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()  # the reset mail goes out after commit
        return render_template("accounts/check_email.html", email=form.email.data, reset=True)
    return render_template("accounts/forgot_password.html", form=form), form_status(form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str) -> ResponseReturnValue:
    try:
        services.user_for_reset_token(token)
    except InvalidToken:
        flash(_("This reset link has expired or was already used. Ask for a new one."), "error")
        return redirect(url_for("accounts.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.reset_password(token=token, password=form.password.data)
        db.session.commit()
        logout_user()
        flash(_("Your password is changed. Sign in with the new one."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form), form_status(form)


@bp.post("/language")
@public
def set_language() -> ResponseReturnValue:
    """The signed-in user's switcher in the header and their setting on the account page: saved
    on their account (pages and mail), and kept in this browser for after they sign out."""
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400, description=_("Choose one of the languages offered."))
    language = form.language.data or None
    if current_user.is_authenticated:
        services.set_language(user=acting_user(), language=language)
        db.session.commit()
    return _language_changed(language, form.next.data)


@bp.get("/language")
@public
def choose_language() -> ResponseReturnValue:
    """A signed-out visitor's switcher in the header: a GET form, so a visitor's pages hold no
    CSRF token and need no session. It changes nothing but this browser's display language (a
    cookie), which is all a link from another site could make it do; ``next`` stays on this
    site."""
    language = request.args.get("language", "")
    if language not in current_app.config["LANGUAGES"]:
        abort(400, description=_("Choose one of the languages offered."))
    return _language_changed(language, request.args.get("next"))


def _language_changed(language: str | None, next_path: str | None) -> ResponseReturnValue:
    response = redirect(safe_next_path(next_path) or url_for("core.home"))
    remember_language(response, language)
    refresh()  # say it in the language just chosen
    flash(_("The language is changed."), "success")
    return response


def _account_page(
    password_form: ChangePasswordForm | None = None,
    email_form: ChangeEmailForm | None = None,
    token_form: CreateTokenForm | None = None,
    new_token: access_tokens.NewToken | None = None,
) -> str:
    """The account page; a form given here is shown again with its errors, the others empty.
    ``new_token`` is a token just made, whose secret the page shows this once."""
    return render_template(
        "accounts/account.html",
        password_form=password_form or ChangePasswordForm(prefix="pw", formdata=None),
        email_form=email_form or ChangeEmailForm(prefix="em", formdata=None),
        token_form=token_form or CreateTokenForm(prefix="tk", formdata=None),
        tokens=access_tokens.active_tokens(acting_user()),
        token_scopes=TOKEN_SCOPE_LABELS,
        new_token=new_token,
        revoke_form=RevokeTokenForm(),
        resend_form=ResendConfirmationForm(),
        role_label=ROLE_LABELS[current_user.role],
        saved_searches=saved_search_summaries(current_user),
        max_saved_searches=MAX_SAVED_SEARCHES,
        language_form=LanguageForm(
            formdata=None,
            data={"language": current_user.language or "", "next": url_for("accounts.account")},
        ),
    )


@bp.get("/account")
def account() -> ResponseReturnValue:
    return _account_page()


@bp.post("/account/password")
@password_checks
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm(prefix="pw")
    if form.validate_on_submit():
        try:
            services.change_password(
                user=acting_user(),
                current_password=form.current_password.data,
                new_password=form.new_password.data,
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()
            # The session token changed: sign this browser in again, the others are signed out.
            login_user(acting_user())
            flash(_("Your password is changed. Other devices have been signed out."), "success")
            return redirect(url_for("accounts.account"))
    return _account_page(password_form=form), 422


@bp.post("/account/email")
@password_checks
@limiter.limit(lambda: configured_limit("RATELIMIT_ACCOUNT_MAIL"), key_func=current_user_key)
def change_email() -> ResponseReturnValue:
    form = ChangeEmailForm(prefix="em")
    if form.validate_on_submit():
        try:
            services.request_email_change(
                user=acting_user(), new_email=form.email.data, password=form.password.data
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()  # the confirmation mail goes out after commit
            flash(
                _(
                    "We have sent a confirmation link to %(email)s. Your address changes when you "
                    "follow it.",
                    email=form.email.data,
                ),
                "info",
            )
            return redirect(url_for("accounts.account"))
    return _account_page(email_form=form), 422


@bp.get("/account/email/confirm/<token>")
@public
def confirm_email_change(token: str) -> ResponseReturnValue:
    try:
        services.confirm_email_change(token)
    except InvalidToken:
        flash(_("This link has expired or is not valid. Ask for the change again."), "error")
        return redirect(url_for("accounts.account"))
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("accounts.account"))
    db.session.commit()
    flash(_("Your email address is changed."), "success")
    return redirect(url_for("accounts.account"))


@bp.post("/account/tokens")
def create_token() -> ResponseReturnValue:
    form = CreateTokenForm(prefix="tk")
    if form.validate_on_submit():
        try:
            new_token = access_tokens.create_token(
                user=acting_user(), name=form.name.data, scope=TokenScope(form.scope.data)
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()
            # Shown on this page and never again: not flashed (the session cookie is only signed,
            # not encrypted) and not redirected to.
            return _account_page(new_token=new_token)
    return _account_page(token_form=form), 422


@bp.post("/account/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> ResponseReturnValue:
    token = db.session.get(AccessToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if RevokeTokenForm().validate_on_submit():
        access_tokens.revoke_token(user=acting_user(), token=token)
        db.session.commit()
        flash(_("The token “%(name)s” is revoked.", name=token.name), "success")
    return redirect(url_for("accounts.account"))
