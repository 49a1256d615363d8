"""Error pages that speak plainly, as a full page or, for htmx, a fragment."""

from flask import render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from moderation.core.extensions import db
from moderation.core.htmx import wants_fragment

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
          "if it keeps happening, tell your district administrator."),
}


def render_error(status: int, detail: str | None = None):
    title, hint = MESSAGES.get(status, MESSAGES[500 if status >= 500 else 400])
    template = "errors/_error.html" if wants_fragment() else "errors/error.html"
    return render_template(template, status=status, title=title, hint=hint, detail=detail), status


def handle_http_error(error: HTTPException):
    detail = error.description if error.code in (400, 413, 422) else None
    return render_error(error.code or 500, detail)


def handle_csrf_error(error: CSRFError):
    return render_error(400, "The form expired or was sent from elsewhere. Reload the page and "
                             "try again.")


def handle_unexpected_error(error: Exception):
    db.session.rollback()
    return render_error(500)


def init_app(app):
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_unexpected_error)
    if not app.debug and not app.testing:
        app.register_error_handler(Exception, handle_unexpected_error)
