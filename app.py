"""The composition root: create_app() binds extensions, blueprints and commands.

Nothing imports this module but the WSGI server (gunicorn 'app:create_app()') and the tests.
"""

import os

from flask import Flask, redirect, request, url_for
from flask.cli import load_dotenv
from flask_htmx import make_response
from werkzeug.middleware.proxy_fix import ProxyFix

from moderation.accounts import permissions as account_permissions
from moderation.accounts import queries as account_queries
from moderation.accounts import services as account_services
from moderation.accounts.cli import audit_cli, district_cli
from moderation.accounts.navigation import inject_navigation
from moderation.accounts.people_views import bp as people_bp
from moderation.accounts.roster.cli import roster_cli
from moderation.accounts.roster.views import bp as roster_bp
from moderation.accounts.school_views import bp as schools_bp
from moderation.accounts.views import bp as accounts_bp
from moderation.analysis import services as analysis_services
from moderation.analysis.cli import analysis_cli
from moderation.analysis.views import bp as analysis_bp
from moderation.core import errors, jobs, local_time, request_guard, request_id, security, storage
from moderation.core.config import load_config
from moderation.core.extensions import csrf, db, htmx, limiter, login_manager, migrate
from moderation.core.jobs_cli import jobs_cli
from moderation.core.mail import delivery as mail_delivery
from moderation.core.mail.cli import mail_cli
from moderation.practice import queries as practice_queries
from moderation.practice.views import bp as practice_bp
from moderation.ratings import queries as rating_queries
from moderation.ratings.cli import ratings_cli
from moderation.reports import pages as report_pages
from moderation.reports import views as report_views
from moderation.reports.views import bp as reports_bp
from moderation.samples import permissions as sample_permissions
from moderation.samples.views import bp as samples_bp
from moderation.scoring import queries as scoring_queries
from moderation.scoring import services as scoring_services
from moderation.scoring.views import bp as scoring_bp
from moderation.sessions import queries as session_queries
from moderation.sessions.views import bp as sessions_bp
from moderation.settings import queries as settings_queries
from moderation.settings.views import bp as settings_bp
from rubrics import queries as rubric_queries
from rubrics.cli import rubrics_cli
from rubrics.views import bp as rubrics_bp
from seed_data.demo import seed_demo_command


def create_app(overrides: dict | None = None) -> Flask:
    _read_flaskenv_under_the_flask_command()
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(load_config(app.instance_path))
    app.config.from_mapping(overrides or {})
    _trust_proxies(app)

    request_guard.init_app(app)  # first: it bounds the URL map's ids before any rule is added
    request_id.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    _warn_if_limits_are_per_worker(app)
    _init_login(app)
    security.init_app(app)
    errors.init_app(app)
    storage.init_app(app)
    mail_delivery.init_app(app)
    jobs.init_app(app)
    local_time.init_app(app, account_queries.time_zone_name_of)

    app.context_processor(inject_navigation)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(schools_bp)
    app.register_blueprint(people_bp)
    app.register_blueprint(roster_bp)
    app.register_blueprint(settings_bp)
    app.register_blueprint(rubrics_bp)
    app.register_blueprint(samples_bp)
    app.register_blueprint(scoring_bp)
    app.register_blueprint(practice_bp)
    app.register_blueprint(analysis_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(sessions_bp)
    sample_permissions.register_work_viewer(scoring_queries.can_view_work)
    sample_permissions.register_work_viewer(session_queries.is_on_open_agenda)
    sample_permissions.register_blind_samples(scoring_queries.samples_of_rounds_scored_by)
    scoring_queries.register_met_samples(practice_queries.practised_sample_ids)
    scoring_queries.register_met_samples(session_queries.met_sample_ids)
    scoring_services.register_round_closed(analysis_services.request_after_close)
    jobs.register_sweep(analysis_services.requeue_abandoned)
    analysis_services.register_chart_renderer(report_pages.draw)
    rubric_queries.register_score_counter(rating_queries.count_for_version)
    errors.register_forbidden_hint(report_views.forbidden_hint)
    errors.register_forbidden_hint(account_permissions.forbidden_hint)
    account_services.register_password_rule(settings_queries.password_login_allowed)
    errors.register_private_path("accounts.set_password")
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(rubrics_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(district_cli)
    app.cli.add_command(roster_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(analysis_cli)
    app.cli.add_command(ratings_cli)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app


def _read_flaskenv_under_the_flask_command() -> None:
    """`flask --app app --help` lists the app's commands before Flask has read .flaskenv (click
    handles --help before the option that loads it), so the factory would run in production
    mode, refuse the missing SECRET_KEY and the listing would lose every command of ours. Under
    the flask command only, read now the files Flask reads a moment later anyway; they never
    override the environment. gunicorn does not set the flag, so a server stays in production
    mode unless APP_ENV says otherwise."""
    if os.environ.get("FLASK_RUN_FROM_CLI") == "true":
        load_dotenv()


def _trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXY_HOPS proxies, take the client's address (the login limits' key) and
    scheme from the headers those proxies set. Not the host: the app builds no absolute URLs,
    and a forwarded host is one more header to trust."""
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def _warn_if_limits_are_per_worker(app: Flask) -> None:
    if app.config["APP_ENV"] == "production" and (
            app.config["RATELIMIT_STORAGE_URI"].startswith("memory://")):
        app.logger.warning("REDIS_URL is not set: each worker process counts login attempts "
                           "on its own, so the login limits are multiplied by the workers.")


def _init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(session_id: str):
        user_id, _, version = session_id.partition(":")
        if not (user_id.isdigit() and version.isdigit()):
            return None
        return account_queries.user_for_session(int(user_id), int(version))

    @login_manager.unauthorized_handler
    def unauthorized():
        login_url = url_for("accounts.login", next=request.full_path.rstrip("?"))
        if htmx:
            # A login form swapped into a table cell helps nobody: send the whole page there.
            response = make_response("", 401)
            response.headers["HX-Redirect"] = login_url
            return response
        return redirect(login_url)
