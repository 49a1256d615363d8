"""Error pages that speak plainly, as a full page or, for htmx, a fragment.

Every error page shows the request's id (moderation/core/request_id.py), and every unexpected
error is logged with its traceback under that id. When the database cannot be reached the
answer is 503 from a page that needs no database: the usual page asks the database who is
logged in, which is exactly what fails then.
"""

from collections.abc import Callable

from flask import current_app, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError

from moderation.core.extensions import db
from moderation.core.htmx import wants_fragment
from moderation.core.request_id import request_id

MESSAGES = {
    400: ("The request could not be understood", "Please go back and try again."),
    403: ("You do not have access to this page", "Your role does not include this page. "
          "If you think it should, ask your district administrator."),
    404: ("Page not found", "The page or item you asked for does not exist, or was removed."),
    405: ("That action is not available here", "Please use the buttons on the page."),
    413: ("The file is too large", "Please upload a smaller file."),
    422: ("Some of what you entered needs attention", "Please check the form and try again."),
    429: ("Too many attempts", "Please wait a minute before trying again."),
    500: ("Something went wrong on our side", "Nothing you saved was lost. Please try again; "
          "if it keeps happening, tell your district administrator the reference below."),
    503: ("The service is briefly unavailable", "The database cannot be reached just now, "
          "usually for a restart that takes a minute. Nothing you saved was lost; please try "
          "again shortly."),
}
# Sources of a hint suited to who is refused (core knows no roles): the first one that has
# something to say replaces the 403 page's general hint. create_app registers accounts' one.
FORBIDDEN_HINTS: list[Callable[[], str | None]] = []
# Endpoints whose address holds a secret (a one-time link's token): the logs name their URL
# rule, /set-password/<token>, instead of the path. Registered by the package that owns them.
PRIVATE_PATH_ENDPOINTS: set[str] = set()


def register_private_path(endpoint: str) -> None:
    PRIVATE_PATH_ENDPOINTS.add(endpoint)


def _logged_path() -> str:
    if request.url_rule is not None and request.endpoint in PRIVATE_PATH_ENDPOINTS:
        return request.url_rule.rule
    return request.path


# Raised when the database is down or restarting, or every pooled connection is busy.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError)
RETRY_AFTER_SECONDS = 10


def register_forbidden_hint(source: Callable[[], str | None]) -> None:
    if source not in FORBIDDEN_HINTS:
        FORBIDDEN_HINTS.append(source)


def render_error(status: int, detail: str | None = None, *, needs_database: bool = True):
    title, hint = MESSAGES.get(status, MESSAGES[500 if status >= 500 else 400])
    context = dict(status=status, title=title, hint=hint, detail=detail,
                   request_id=request_id())
    fragment = wants_fragment()
    if needs_database:
        try:
            if status == 403:
                context["hint"] = _forbidden_hint() or hint
            template = "errors/_error.html" if fragment else "errors/error.html"
            return render_template(template, **context), status
        except Exception:  # the page's chrome failed (it asks who is logged in)
            current_app.logger.exception("The error page failed (request id %s)", request_id())
            _forget_failed_transaction()
    return _render_without_database(fragment, context), status


def _forbidden_hint() -> str | None:
    return next((hint for hint in (source() for source in FORBIDDEN_HINTS) if hint), None)


def _render_without_database(fragment: bool, context: dict) -> str:
    """Render past the context processors, which look up the logged-in user and their
    navigation in the database."""
    template = "errors/_error.html" if fragment else "errors/standalone.html"
    return current_app.jinja_env.get_template(template).render(**context)


def handle_http_error(error: HTTPException):
    if error.response is not None:   # the raiser made its own page (a rate limit's on_breach)
        return error.response
    detail = error.description if error.code in (400, 413, 422) else None
    return render_error(error.code or 500, detail)


def handle_csrf_error(error: CSRFError):
    return render_error(400, "The form expired or was sent from elsewhere. Reload the page and "
                             "try again.")


def handle_database_unavailable(error: Exception):
    current_app.logger.error("Database unavailable during %s %s (request id %s): %s",
                             request.method, _logged_path(), request_id(), error)
    _forget_failed_transaction()
    body, status = render_error(503, needs_database=False)
    return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def handle_unexpected_error(error: Exception):
    original = getattr(error, "original_exception", None) or error
    if isinstance(original, DATABASE_UNAVAILABLE):
        return handle_database_unavailable(original)
    current_app.logger.error("Unexpected error during %s %s (request id %s)", request.method,
                             _logged_path(), request_id(), exc_info=original)
    _forget_failed_transaction()
    return render_error(500)


def _forget_failed_transaction() -> None:
    """Roll back what the failed request began; on a dead connection the rollback fails too,
    and the pool's pre-ping replaces that connection on the next checkout."""
    try:
        db.session.rollback()
    except Exception:
        db.session.remove()


def init_app(app):
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    for error in DATABASE_UNAVAILABLE:
        app.register_error_handler(error, handle_database_unavailable)
    # Flask hands every uncaught error to the 500 handler as InternalServerError. Under the
    # debugger (flask run --debug) tracebacks go to the browser instead.
    app.register_error_handler(InternalServerError, handle_unexpected_error)
    if not app.debug:
        app.register_error_handler(Exception, handle_unexpected_error)
