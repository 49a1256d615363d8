"""Single sign-on against a real OpenID provider (node-oidc-provider, tests/fixtures/oidc.py):
the app's redirects and token exchange go over real HTTP; the provider's pages are driven by
ProviderBrowser, the app's by Flask's test client.
"""

from urllib.parse import parse_qs, urlsplit

import hypothesis
import pytest
from hypothesis import strategies as st

from moderation.accounts import audit_text
from moderation.accounts.models import District, Role, User
from moderation.accounts.services import grant_role, may_use_password
from moderation.core.audit import AuditEvent
from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.settings import services as settings_services
from moderation.settings.queries import settings_for
from tests.conftest import csrf_token_from
from tests.fixtures.oidc import ProviderBrowser
from tests.fixtures.settings import settings_form

AMARA = "amara.okafor@riverbend.example"
NO_ACCOUNT = "There is no active account here for"


@pytest.fixture
def sso_app(app, oidc_provider):
    app.config.update(oidc_provider.app_config(), OIDC_LABEL="Sign in with Riverbend")
    return app


def with_email(app, user, email: str) -> User:
    with app.app_context():
        row = db.session.get(User, user.id)
        row.email = email
        db.session.commit()
    return user


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        found = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)).scalars().all()
        db.session.expunge_all()
        return found


def sentence(app, event: AuditEvent) -> str:
    with app.app_context():
        return audit_text.rows([db.session.get(AuditEvent, event.id)])[0].details


def start(client, path: str = "/login/sso") -> str:
    """The app's redirect to the provider; returns the authorization URL."""
    answer = client.get(path)
    assert answer.status_code == 302
    return answer.headers["Location"]


def sign_in(client, account: str, path: str = "/login/sso"):
    """The whole journey: the app sends the person to the provider, they log in there as
    `account` and consent, and the provider sends them back to the app's callback."""
    callback = ProviderBrowser().sign_in(start(client, path), account)
    parts = urlsplit(callback)
    return client.get(f"{parts.path}?{parts.query}")


def test_the_login_page_shows_the_button_only_where_single_sign_on_is_set_up(app, client,
                                                                            oidc_provider):
    page = client.get("/login").text
    assert "/login/sso" not in page
    not_set_up = client.get("/login/sso", follow_redirects=True)
    assert not_set_up.request.path == "/login"
    assert "Single sign-on is not set up here." in not_set_up.text

    app.config.update(oidc_provider.app_config(), OIDC_LABEL="Sign in with Riverbend")
    page = client.get("/login").text
    assert '<a class="button sso-button" href="/login/sso">Sign in with Riverbend</a>' in page
    assert "or log in with your email and password" in page
    with_next = client.get("/login?next=/rubrics/").text
    assert 'href="/login/sso?next=/rubrics/"' in with_next


def test_the_authorization_request_uses_pkce_state_and_nonce(sso_app, client, oidc_provider):
    """The callback is under PUBLIC_URL (never the request's Host), as emailed links are."""
    url = urlsplit(start(client))
    params = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}" == oidc_provider.issuer
    assert params["response_type"] == "code"
    assert params["client_id"] == oidc_provider.client_id
    assert params["redirect_uri"] == "http://127.0.0.1:5000/login/sso/callback"
    assert params["scope"] == "openid email profile"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 20 and len(params["nonce"]) >= 20


def test_a_verified_email_logs_its_active_account_in(sso_app, client, create_teacher):
    teacher = with_email(sso_app, create_teacher(), AMARA)
    token_before = csrf_token_from(client.get("/login").text)

    answer = sign_in(client, "teacher")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"
    home = client.get("/", follow_redirects=True)
    assert home.request.path == "/teacher"
    assert teacher.display_name in home.text
    # As at a password login, the token seen before the login is worthless after it.
    assert csrf_token_from(home.text) != token_before

    [event] = events(sso_app, "login_sso")
    assert event.actor_id == teacher.id
    assert sentence(sso_app, event) == "Logged in via single sign-on."
    assert events(sso_app, "login") == []


def test_the_email_matches_whatever_its_case(sso_app, client, create_teacher):
    teacher = with_email(sso_app, create_teacher(), AMARA)
    assert sign_in(client, "shouting").status_code == 302
    assert teacher.display_name in client.get("/", follow_redirects=True).text


def test_the_page_asked_for_before_logging_in_is_where_it_ends(sso_app, client, auth,
                                                               create_teacher):
    with_email(sso_app, create_teacher(), AMARA)
    answer = sign_in(client, "teacher", "/login/sso?next=/account/password")
    assert answer.headers["Location"] == "/account/password"
    # Only paths of this site: an address elsewhere is dropped.
    auth.logout()
    answer = sign_in(client, "teacher", "/login/sso?next=https://evil.example/")
    assert answer.headers["Location"] == "/"


def assert_refused(answer, status: int, message: str) -> str:
    assert answer.status_code == status
    assert 'id="login-message"' in answer.text and message in answer.text
    assert '<input id="email"' in answer.text  # the login page, to try another way
    return answer.text


def test_an_email_without_an_account_is_refused_and_nothing_is_created(sso_app, client):
    answer = sign_in(client, "stranger")
    assert_refused(answer, 403, f"{NO_ACCOUNT} nobody@elsewhere.example.")
    assert client.get("/", follow_redirects=True).request.path == "/login"
    with sso_app.app_context():
        assert db.session.execute(db.select(db.func.count(User.id))).scalar() == 0
    [event] = events(sso_app, "sso_login_refused")
    assert event.actor_id is None and event.details["reason"] == "no_account"
    assert "nobody@" not in str(event.details)
    assert sentence(sso_app, event).startswith(
        "A single sign-on was refused: the provider vouched for an address that has no "
        "account here.")


def test_a_deactivated_account_is_refused_in_the_same_words(sso_app, client, create_teacher):
    teacher = with_email(sso_app, create_teacher(), AMARA)
    with sso_app.app_context():
        db.session.get(User, teacher.id).deactivated_at = utcnow()
        db.session.commit()
    answer = sign_in(client, "teacher")
    assert_refused(answer, 403, f"{NO_ACCOUNT} {AMARA}. If you should have one, ask your "
                                "district administrator.")
    assert client.get("/", follow_redirects=True).request.path == "/login"
    [event] = events(sso_app, "sso_login_refused")
    assert event.actor_id == teacher.id and event.details["reason"] == "deactivated"


def test_an_email_the_provider_has_not_verified_is_refused(sso_app, client, create_teacher):
    with_email(sso_app, create_teacher(), AMARA)
    answer = sign_in(client, "unverified")
    assert_refused(answer, 403, f"Your sign-in provider has not verified the address {AMARA}")
    assert client.get("/", follow_redirects=True).request.path == "/login"
    [event] = events(sso_app, "sso_login_refused")
    assert event.details["reason"] == "unverified" and event.details["email_digest"]


def test_an_email_without_email_verified_counts_only_where_the_provider_is_trusted(
        sso_app, client, auth, create_teacher):
    teacher = with_email(sso_app, create_teacher(), AMARA)
    assert_refused(sign_in(client, "silent"), 403, "has not verified the address")

    sso_app.config["OIDC_TRUST_EMAIL"] = True
    assert sign_in(client, "silent").status_code == 302
    assert teacher.display_name in client.get("/", follow_redirects=True).text
    # An explicit "not verified" is refused even then.
    auth.logout()
    assert_refused(sign_in(client, "unverified"), 403, "has not verified the address")


def test_a_token_without_an_email_is_refused(sso_app, client):
    assert_refused(sign_in(client, "noemail"), 403,
                   "Your sign-in provider did not tell us your email address")


def test_allowed_workspace_domains_are_read_from_the_hosted_domain_claim(sso_app, client,
                                                                        create_teacher):
    teacher = with_email(sso_app, create_teacher(), AMARA)
    sso_app.config["OIDC_ALLOWED_DOMAINS"] = ("riverbend.example",)
    url = urlsplit(start(client))
    assert parse_qs(url.query)["hd"] == ["riverbend.example"]
    # The same address, from an account outside the Workspace domain (no hd claim).
    assert_refused(sign_in(client, "shouting"), 403,
                   f"The account {AMARA} is not one of your district")
    assert sign_in(client, "teacher").status_code == 302
    assert teacher.display_name in client.get("/", follow_redirects=True).text


def test_cancelling_at_the_provider_comes_back_to_the_login_page(sso_app, client):
    callback = ProviderBrowser().cancel(start(client))
    assert "error=access_denied" in callback
    parts = urlsplit(callback)
    answer = client.get(f"{parts.path}?{parts.query}")
    assert_refused(answer, 401, "Signing in with your provider was cancelled")


def test_a_callback_whose_state_this_browser_did_not_start_is_refused(sso_app, client, auth,
                                                                     create_teacher):
    with_email(sso_app, create_teacher(), AMARA)
    callback = urlsplit(ProviderBrowser().sign_in(start(client), "teacher"))
    # Another browser (an attacker's link, a second tab's stale session) cannot use it ...
    other = sso_app.test_client()
    answer = other.get(f"{callback.path}?{callback.query}")
    assert_refused(answer, 400, "This sign-in had expired or was started in another browser")
    # ... nor can the right browser with the state changed.
    query = callback.query.replace("state=", "state=x")
    assert_refused(client.get(f"{callback.path}?{query}"), 400, "had expired")
    assert client.get("/", follow_redirects=True).request.path == "/login"
    # The browser that started it can, once: a state is good for one callback only.
    assert client.get(f"{callback.path}?{callback.query}").status_code == 302
    auth.logout()
    assert_refused(client.get(f"{callback.path}?{callback.query}"), 400, "had expired")


def test_a_code_the_provider_does_not_know_is_refused(sso_app, client):
    state = parse_qs(urlsplit(start(client)).query)["state"][0]
    answer = client.get(f"/login/sso/callback?code=made-up&state={state}")
    assert_refused(answer, 400, "Your sign-in provider could not sign you in.")


def test_a_provider_error_is_shown_without_a_server_error(sso_app, client):
    answer = client.get("/login/sso/callback?error=server_error&state=x")
    assert_refused(answer, 400, "Your sign-in provider could not sign you in.")
    assert_refused(client.get("/login/sso/callback?state=x"), 400, "had expired")
    # Opened by hand, without any answer of the provider: just the login page.
    assert client.get("/login/sso/callback").headers["Location"] == "/login"


def test_a_provider_that_cannot_be_reached_is_a_message(app, client):
    app.config.update(OIDC_ISSUER="http://127.0.0.1:9", OIDC_CLIENT_ID="x",
                      OIDC_CLIENT_SECRET="y")
    answer = client.get("/login/sso")
    assert_refused(answer, 400, "Your sign-in provider could not be reached just now.")


def test_a_discovery_document_of_another_issuer_is_refused(app, client, oidc_provider):
    app.config.update(oidc_provider.app_config(),
                      OIDC_ISSUER=oidc_provider.issuer.replace("127.0.0.1", "localhost"))
    assert_refused(client.get("/login/sso"), 400, "Single sign-on is not set up correctly")


# --- the district's switch: password login allowed, or single sign-on only -----------------

def passwords_off(app, district_id: int, admin_id: int) -> None:
    with app.app_context():
        district = db.session.get(District, district_id)
        settings_services.update_settings(district, db.session.get(User, admin_id),
                                          {"password_login": False})
        db.session.commit()


def test_password_login_is_refused_only_after_the_password_matched(
        sso_app, client, auth, create_teacher, create_district_admin):
    teacher = create_teacher()
    with sso_app.app_context():
        district_id = db.session.get(User, teacher.id).memberships[0].district_id
    admin = create_district_admin(district=District(id=district_id))
    passwords_off(sso_app, district_id, admin.id)

    wrong = auth.login(teacher, "not-the-password")
    assert wrong.status_code == 422
    assert "That email and password do not match an account." in wrong.text
    unknown = auth.login("nobody@example.org", "not-the-password")
    assert unknown.status_code == 422 and "single sign-on only" not in unknown.text

    right = auth.login(teacher)
    assert right.status_code == 403
    assert ("Your district signs in through single sign-on only. Use “Sign in with "
            "Riverbend” instead.") in right.text
    assert 'class="button sso-button"' in right.text
    assert client.get("/", follow_redirects=True).request.path == "/login"
    [event] = events(sso_app, "password_login_refused")
    assert event.actor_id == teacher.id
    assert "single sign-on only" in sentence(sso_app, event)


def test_one_district_that_allows_passwords_is_enough(sso_app, auth, create_teacher,
                                                      create_district, create_district_admin,
                                                      create_user):
    teacher = create_teacher()
    other = create_district()
    with sso_app.app_context():
        user = db.session.get(User, teacher.id)
        first_district = user.memberships[0].district_id
        grant_role(user, Role.COACH, db.session.get(District, other.id))
        db.session.commit()
    admin = create_district_admin(district=District(id=first_district))
    passwords_off(sso_app, first_district, admin.id)
    with sso_app.app_context():
        assert may_use_password(db.session.get(User, teacher.id))
    assert auth.login(teacher).status_code == 302

    other_admin = create_district_admin(district=other)
    passwords_off(sso_app, other.id, other_admin.id)
    with sso_app.app_context():
        assert not may_use_password(db.session.get(User, teacher.id))
        assert not may_use_password(db.session.get(User, admin.id))
        # Someone in no district is ruled by none.
        assert may_use_password(db.session.get(User, create_user().id))
    auth.logout()
    assert auth.login(teacher).status_code == 403


def test_without_single_sign_on_passwords_always_work(app, sso_app, auth, create_teacher,
                                                      create_district_admin):
    teacher = create_teacher()
    with app.app_context():
        district_id = db.session.get(User, teacher.id).memberships[0].district_id
    admin = create_district_admin(district=District(id=district_id))
    passwords_off(sso_app, district_id, admin.id)
    # Single sign-on removed from the configuration afterwards: nobody is locked out.
    app.config["OIDC_ISSUER"] = ""
    with app.app_context():
        assert settings_for(district_id).password_login is False
        assert may_use_password(db.session.get(User, teacher.id))
    assert auth.login(teacher).status_code == 302


def test_the_setting_turns_off_only_where_single_sign_on_is_set_up(
        app, hx, create_district_admin, create_district, oidc_provider):
    district = create_district()
    admin = create_district_admin(district=district)
    hx.auth.login(admin)
    page = hx.client.get(f"/district/{district.id}/settings").text
    assert "<legend>Logging in</legend>" in page
    assert "Password login allowed" in page and "Default: <strong>on</strong>" in page
    assert "Single sign-on is not set up on this server, so password login stays" in page

    refused = hx.post(f"/district/{district.id}/settings", settings_form(password_login=False),
                      target="district-settings")
    assert refused.status_code == 422
    assert ('<ul class="errors" id="password_login-errors"><li>Password login can be turned '
            'off only once single sign-on is set up on this server') in refused.text
    with app.app_context():
        assert settings_for(district.id).password_login is True

    app.config.update(oidc_provider.app_config())
    saved = hx.post(f"/district/{district.id}/settings", settings_form(password_login=False),
                    target="district-settings")
    assert saved.status_code == 200 and "Saved: Password login allowed." in saved.text
    assert "Single sign-on is not set up on this server" not in saved.text
    with app.app_context():
        assert settings_for(district.id).password_login is False
    [event] = events(app, "district_setting_changed")
    assert sentence(app, event) == ("Changed the district setting “Password login allowed” "
                                    "from on to off.")


@hypothesis.settings(max_examples=40, deadline=None, database=None,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture,
                                            hypothesis.HealthCheck.too_slow])
@hypothesis.given(
    params=st.dictionaries(st.sampled_from(["code", "state", "error", "error_description",
                                            "iss", "session_state"]),
                           st.text(max_size=200), max_size=5),
    real_state=st.booleans())
def test_no_answer_at_the_callback_is_a_server_error(sso_app, client, params, real_state):
    """Whatever comes back to the callback (with this browser's real state or not, a made-up
    code going to the real token endpoint), the answer is a page, never a 500."""
    if real_state:
        params["state"] = parse_qs(urlsplit(start(client)).query)["state"][0]
    answer = client.get("/login/sso/callback", query_string=params)
    assert answer.status_code in (302, 400, 401, 403), answer.text
    assert client.get("/", follow_redirects=True).request.path == "/login"


def test_a_single_sign_on_only_district_gets_no_password_reset_links(
        sso_app, create_teacher, create_district_admin):
    from moderation.accounts import tokens

    teacher = create_teacher()
    # The emailed link's path comes from url_for, which needs a request context.
    with sso_app.test_request_context():
        district_id = db.session.get(User, teacher.id).memberships[0].district_id
        assert tokens.request_reset(teacher.email) is True
        db.session.commit()
    admin = create_district_admin(district=District(id=district_id))
    passwords_off(sso_app, district_id, admin.id)
    with sso_app.test_request_context():
        assert tokens.request_reset(teacher.email) is False
        db.session.commit()
    [event] = events(sso_app, "password_reset_refused")
    assert event.actor_id == teacher.id
    assert "single sign-on only" in sentence(sso_app, event)
