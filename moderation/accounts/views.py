import csv
import io
import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from moderation.accounts import audit_text, queries, services, sso, tokens
from moderation.accounts.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    OwnTimeZoneForm,
    SetPasswordForm,
)
from moderation.accounts.models import Role, TokenPurpose
from moderation.accounts.permissions import home_endpoint, role_required
from moderation.core import audit, local_time, security, timezones
from moderation.core.db import utcnow
from moderation.core.errors import render_error
from moderation.core.extensions import db, limiter
from moderation.core.forms import submit
from moderation.core.htmx import render

bp = Blueprint("accounts", __name__)
AUDIT_PAGE_SIZE = 50


def _refused(response) -> bool:
    """The login form was refused: a guess. Not a 429, or hammering on after one account is
    limited would use up the ceiling of everyone at the address."""
    return response.status_code == 422


def _account_at_address() -> str:
    """The typed email and the client address: one person's guesses are limited without
    locking out everyone else behind the same school network. The email is keyed-hashed, as
    in the audit log, since people type passwords into that box."""
    return f"{audit.email_digest(request.form.get('email', ''))}@{get_remote_address()}"


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths, so a crafted ?next= cannot send users elsewhere."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.get("/")
@login_required
def home():
    return redirect(url_for(home_endpoint(current_user)))


def _login_page(form: LoginForm, status: int, message: str | None = None):
    """The login page, with the single sign-on button where it is set up and, after a refusal,
    the message saying why."""
    return render_template("accounts/login.html", form=form, message=message,
                           sso_label=sso.label() if sso.is_configured() else None,
                           next_path=_safe_next(request.args.get("next"))), status


def _logged_in(user, next_path: str | None):
    # A token seen before the login must be worthless after it, whichever way one logs in.
    security.rotate_csrf_token()
    login_user(user)
    return redirect(next_path or url_for("accounts.home"))


@bp.route("/login", methods=["GET", "POST"])
# Only failed attempts count: per account at an address, and a higher ceiling per address
# against one machine trying many accounts.
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"],
               key_func=_account_at_address, deduct_when=_refused)
@limiter.limit(lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"], methods=["POST"],
               key_func=get_remote_address, deduct_when=_refused)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.PasswordLoginOff as error:
            # The password was right: not a guess, so not 422 (which the limits count).
            db.session.commit()
            return _login_page(form, 403, f"{error} Use “{sso.label()}” instead.")
        db.session.commit()
        if user is not None:
            return _logged_in(user, _safe_next(request.args.get("next")))
        form.password.errors.append("That email and password do not match an account.")
    return _login_page(form, 422 if request.method == "POST" else 200)


SSO_NEXT = "sso_next"
# Reasons for which the provider signed someone in but we refused its token: audited.
AUDITED_SSO_REFUSALS = {"unverified", "domain", "no_email"}


def _not_set_up():
    # A bookmark or an old page's button after single sign-on was switched off here.
    flash("Single sign-on is not set up here. Log in with your email and password.", "info")
    return redirect(url_for("accounts.login"))


def _callback_url() -> str:
    """The callback as registered at the provider: under PUBLIC_URL, as emailed links are;
    from the request only where PUBLIC_URL is not set (a forged Host would then only make
    the provider refuse an unregistered address)."""
    public = current_app.config.get("PUBLIC_URL")
    path = url_for("accounts.sso_callback")
    return public + path if public else url_for("accounts.sso_callback", _external=True)


@bp.get("/login/sso")
def sso_start():
    """Off to the provider; it comes back to sso_callback."""
    if current_user.is_authenticated:
        return redirect(url_for("accounts.home"))
    if not sso.is_configured():
        return _not_set_up()
    session_next = _safe_next(request.args.get("next"))
    try:
        response = sso.authorize_redirect(_callback_url())
    except sso.SsoRefused as refused:
        return _login_page(LoginForm(formdata=None), refused.status, str(refused))
    if session_next:
        session[SSO_NEXT] = session_next
    else:
        session.pop(SSO_NEXT, None)
    return response


@bp.get("/login/sso/callback")
def sso_callback():
    """The provider's answer: log in the active account with the verified email, or show the
    login page with why not. An unknown email and a deactivated account read the same."""
    if current_user.is_authenticated:
        return redirect(url_for("accounts.home"))
    if not sso.is_configured():
        return _not_set_up()
    if not request.args:
        # The address opened by hand, not the provider's answer: nothing to refuse.
        return redirect(url_for("accounts.login"))
    try:
        email = sso.email_from_callback()
    except sso.SsoRefused as refused:
        if refused.reason in AUDITED_SSO_REFUSALS:
            services.record_sso_refusal(refused.reason, refused.email)
            db.session.commit()
        return _login_page(LoginForm(formdata=None), refused.status, str(refused))
    user = services.authenticate_single_sign_on(email)
    db.session.commit()
    if user is None:
        return _login_page(LoginForm(formdata=None), 403,
                           f"There is no active account here for {email}. If you should have "
                           "one, ask your district administrator.")
    return _logged_in(user, _safe_next(session.pop(SSO_NEXT, None)))


@bp.post("/logout")
@login_required
def logout():
    services.end_sessions(current_user, "logout")
    db.session.commit()
    logout_user()
    # The signed-in session's token must not outlive it (as at login, a new one is issued).
    security.rotate_csrf_token()
    flash("You are logged out.", "info")
    return redirect(url_for("accounts.login"))


# --- forgotten passwords and one-time links ----------------------------------------------------

def _typed_address() -> str:
    """The typed email's keyed hash, whether or not an account uses it: a limit only on real
    accounts would itself tell which addresses exist."""
    return "reset:" + audit.email_digest(request.form.get("email", ""))


def _answered(response) -> bool:
    """A request that got the answer page (and may have sent mail) counts; a form sent back
    for a missing address does not."""
    return response.status_code == 200


def _too_many_resets(_limit):
    body, status = render_error(429, "Too many reset links were asked for just now. If an "
                                     "account uses that address, a link is already on its way: "
                                     "look in your inbox and spam folder, or try again in an "
                                     "hour.")
    return make_response(body, status)


def _leaves_no_trace(response):
    """Pages whose address holds a one-time token: the address goes to no other site as a
    Referer (not even our own scripts'), and no copy stays in a shared computer's cache."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_RATE_LIMIT"], methods=["POST"],
               key_func=_typed_address, deduct_when=_answered, on_breach=_too_many_resets)
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_ADDRESS_RATE_LIMIT"],
               methods=["POST"], key_func=get_remote_address, deduct_when=_answered,
               on_breach=_too_many_resets)
def forgot_password():
    started = time.monotonic()
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            tokens.request_reset(form.email.data)
        except tokens.LinksUnavailable as error:
            db.session.rollback()
            return render_error(503, str(error))
        db.session.commit()
        # An address with an account costs a few more inserts (measured 8-14 ms more): answer
        # no sooner than a fixed time either way, so the time does not tell which it was.
        time.sleep(max(0.0, current_app.config["PASSWORD_RESET_ANSWER_SECONDS"]
                       - (time.monotonic() - started)))
        return render_template("accounts/reset_requested.html", lifetime=_reset_lifetime())
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/forgot_password.html", form=form,
                           lifetime=_reset_lifetime()), status


def _reset_lifetime() -> str:
    return tokens.reset_lifetime_text(current_app.config["PASSWORD_RESET_MINUTES"])


def _link_refused(state: tokens.LinkState):
    status = 404 if state == tokens.LinkState.NOT_VALID else 410
    return _leaves_no_trace(make_response(
        render_template("accounts/link_refused.html", state=state.value), status))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """Opening the link changes nothing (mail scanners open links too); the POST uses it up."""
    try:
        link = tokens.open_link(token)
    except tokens.LinkError as error:
        return _link_refused(error.state)
    person = link.user
    form = SetPasswordForm()

    def logged_in(user):
        security.rotate_csrf_token()
        login_user(user)
        flash("Your password is set. You are logged in."
              + ("" if link.purpose == TokenPurpose.INVITATION
                 else " Other devices have been logged out."), "success")
        return redirect(url_for("accounts.home"))

    def page(status):
        return _leaves_no_trace(make_response(render_template(
            "accounts/set_password.html", form=form, person=person,
            invitation=link.purpose == TokenPurpose.INVITATION), status))

    try:
        return submit(form, lambda: tokens.set_password(token, form.new_password.data),
                      refused={services.WeakPasswordError: form.new_password},
                      done=logged_in, invalid=page)
    except tokens.LinkError as error:   # another submit used the link a moment before
        db.session.rollback()
        return _link_refused(error.state)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data,
                                     form.new_password.data)
        except services.WeakPasswordError as error:
            form.new_password.errors.append(str(error))
        except services.AccountError as error:
            form.current_password.errors.append(str(error))
        else:
            db.session.commit()
            # Re-issue this browser's cookie with the new version. The user, not the proxy:
            # flask-login would keep current_user as itself, and the next read of it recurses.
            login_user(current_user._get_current_object())
            flash("Your password is changed. Other devices have been logged out.", "success")
            return redirect(url_for("accounts.home"))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/change_password.html", form=form,
                           **_own_time_zone_context()), status


def _own_time_zone_context(message: str | None = None) -> dict:
    district_zone = queries.district_time_zone_of(current_user)
    form = OwnTimeZoneForm(district_zone, formdata=None, time_zone=current_user.time_zone or "")
    return {"zone_form": form, "district_zone": district_zone, "zone_message": message}


def _now_reads() -> str:
    return f"It is now {timezones.local_time(utcnow(), local_time.viewer_zone())}."


@bp.route("/account/time-zone", methods=["GET", "POST"])
@login_required
def own_time_zone():
    message = None
    if request.method == "POST":
        form = OwnTimeZoneForm(queries.district_time_zone_of(current_user))
        if not form.validate_on_submit():
            abort(400)
        try:
            # The user, not the proxy: the audit event is named after the object's class.
            changed = services.set_own_time_zone(current_user._get_current_object(),
                                                 form.time_zone.data or None)
        except services.AccountError as error:
            return render_error(400, str(error))
        db.session.commit()
        local_time.forget_viewer_zone()
        message = ("Saved. " if changed else "Unchanged. ") + _now_reads()
    return render("accounts/own_time_zone.html", "accounts/_own_time_zone.html",
                  **_own_time_zone_context(message))


@bp.get("/teacher")
@role_required(Role.TEACHER)
def teacher_home():
    return render_template("accounts/teacher_home.html",
                           memberships=current_user.memberships_as(Role.TEACHER))


@bp.get("/coach")
@role_required(Role.COACH)
def coach_home():
    scopes = [(m, queries.teachers_in_scope(m)) for m in current_user.memberships_as(Role.COACH)]
    return render_template("accounts/coach_home.html", scopes=scopes)


@bp.get("/district")
@role_required(Role.DISTRICT_ADMIN)
def district_home():
    districts = [(m.district, queries.school_overview(m.district_id))
                 for m in current_user.memberships_as(Role.DISTRICT_ADMIN)]
    return render_template("accounts/district_home.html", districts=districts)


def _audit_reading():
    """The admin's districts as a scope (narrowed to one if asked) and the filters read."""
    administered = {m.district_id: m.district for m in
                    current_user.memberships_as(Role.DISTRICT_ADMIN)}
    reading = audit_text.filters_from(request.args, local_time.viewer_zone())
    if reading.district_id is not None and reading.district_id not in administered:
        reading.errors["district"] = "Choose one of your districts."
    chosen = ([reading.district_id] if reading.district_id in administered
              else list(administered))
    return administered, audit.Scope.of_districts(chosen), reading


@bp.get("/district/audit")
@role_required(Role.DISTRICT_ADMIN)
def audit_log():
    administered, scope, reading = _audit_reading()
    results = None if reading.errors else audit.page_of_events(
        scope, reading.filters, reading.page, size=AUDIT_PAGE_SIZE)
    return render("accounts/audit_log.html", "accounts/_audit_results.html",
                  status=422 if reading.errors else 200, reading=reading, results=results,
                  rows=audit_text.rows(results.events) if results else [],
                  query={k: v for k, v in request.args.items() if k != "page" and v},
                  districts=sorted(administered.values(), key=lambda d: d.name),
                  menus=audit_text.filter_menus(audit.Scope.of_districts(administered)))


@bp.get("/district/audit/export.csv")
@role_required(Role.DISTRICT_ADMIN)
def export_audit_log():
    _, scope, reading = _audit_reading()
    if reading.errors:
        return render_error(422, " ".join(reading.errors.values()))
    query = audit.events_query(scope, reading.filters).execution_options(yield_per=500)
    zone = local_time.viewer_zone()

    def lines():
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(audit_text.csv_header(zone))
        for batch in db.session.execute(query).scalars().partitions():
            writer.writerows(audit_text.csv_cells(row, zone) for row in audit_text.rows(batch))
            yield out.getvalue()
            out.seek(0)
            out.truncate()
        yield out.getvalue()

    filename = f"audit-log-{utcnow().astimezone(zone):%Y-%m-%d}.csv"
    return Response(stream_with_context(lines()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/welcome")
@login_required
def no_role():
    return render_template("accounts/no_role.html")
