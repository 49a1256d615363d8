"""HTTP security headers. The CSP allows no inline script or style, which htmx 2 honours with
includeIndicatorStyles and allowEval switched off (see templates/base.html)."""

from flask import current_app, g, request, session

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data: blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Production is served over HTTPS only (its cookies are Secure): browsers that have seen the app
# once refuse a plain-http or certificate-warning version of it for a year.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


def set_security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["APP_ENV"] == "production":
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    # The session says whether someone signed in without asking the database, which may be
    # the very thing that failed (the 503 page passes through here too).
    if session.get("_user_id") and request.endpoint != "static":
        # Signed-in pages, fragments and exports (the audit CSV) show scores and names: no copy
        # on a shared computer's disk or for its back button after logout. Views that stream
        # work images set their own private header; the app's own scripts and styles may cache.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def rotate_csrf_token() -> None:
    """Make the CSRF token seen before a login worthless after it (as a session id would be
    renewed). Flask-WTF keeps the raw token in the session and the signed one for the request
    in g: without both, the next form gets a new token and the old one no longer matches."""
    name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    session.pop(name, None)
    g.pop(name, None)


def init_app(app):
    app.after_request(set_security_headers)
