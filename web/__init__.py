"""Flask front end: ``create_app`` builds the JSON API and HTML views over one index.

No Whoosh here: the engine's dataclasses cross the boundary.

Configuration (``create_app({...})``): ``BACKEND`` (a
:class:`search.searcher.BackendConfig`; default from ``$SEARCH_BACKEND``,
``$SEARCH_OPENSEARCH_URL``), ``INDEX_DIR`` (the Whoosh index folder; default
``$SEARCH_INDEX``, else ``index``); ``CORS_ORIGINS``: origins allowed to read ``/api/*`` from a
browser (default none: CORS is off).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from search.errors import SearchError
from search.searcher import Engine
from web.jsonio import FastJSONProvider

_STATUS = {"invalid_parameter": 400, "not_found": 404, "index_missing": 503, "index_version": 503, "index_locked": 503, "backend_unavailable": 503}

CSP = (
    "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(BACKEND=None, INDEX_DIR=None, MAX_CONTENT_LENGTH=1024 * 1024, CORS_ORIGINS=())
    if test_config:
        app.config.from_mapping(test_config)
    app.json = FastJSONProvider(app)  # ensure_ascii and sort_keys off
    app.extensions["engine"] = None

    from web import api, export, feeds, similar, suggest, views

    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    for module in (suggest, export, feeds, similar):  # suggestions, exports, Atom feeds, similar articles
        app.register_blueprint(module.bp)
    app.wsgi_app = _options_asterisk(app.wsgi_app)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if response.location:
            # Werkzeug builds a redirect's URL (merged slashes: /api/articles//x) from the
            # request's Host header; a relative Location never sends anyone to another host.
            response.location = relative(response.location)
        origin = request.headers.get("Origin")
        if origin and is_api_path(request.path) and origin in app.config["CORS_ORIGINS"]:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers.add("Vary", "Origin")
        return response

    @app.errorhandler(SearchError)
    def search_error(exc: SearchError):
        status = _STATUS.get(exc.code, 400)
        if is_api_path(request.path):
            return error_response(exc.code, exc.message, exc.param, status)
        return error_page(status, exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if is_api_path(request.path):
            code = (exc.name or "error").lower().replace(" ", "_")
            response = error_response(code, exc.description or exc.name, None, exc.code or 500)
        else:
            response = error_page(exc.code or 500, exc.description or exc.name)
        response = app.make_response(response)
        # Werkzeug's own headers, such as a 405's Allow (RFC 9110 15.5.6), survive the new body.
        for name, value in exc.get_headers(request.environ):
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # never a traceback to the client
        app.logger.exception("unexpected error")
        message = "the server could not answer this request"
        if is_api_path(request.path):
            return error_response("internal_error", message, None, 500)
        return error_page(500, message)

    return app


def _options_asterisk(wsgi_app):
    """``OPTIONS *`` asks about the server as a whole (RFC 9110 9.3.7): every resource here
    takes GET, HEAD and OPTIONS. Werkzeug would route ``*`` as a path and answer 404."""

    def handle(environ, start_response):
        if environ.get("REQUEST_METHOD") == "OPTIONS" and environ.get("PATH_INFO") == "*":
            start_response("200 OK", [("Allow", "GET, HEAD, OPTIONS"), ("Content-Length", "0")])
            return [b""]
        return wsgi_app(environ, start_response)

    return handle


def is_api_path(path: str) -> bool:
    return path.startswith("/api/") or path in ("/healthz", "/openapi.json")


def relative(location: str) -> str:
    """``location`` without its scheme and host: ``http://evil.example/a?b`` → ``/a?b``."""
    parts = urlsplit(location)
    return urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment)) if parts.scheme or parts.netloc else location


def error_response(code: str, message: str, param: str | None, status: int):
    return jsonify({"error": {"code": code, "message": message, "param": param}}), status


def error_page(status: int, message: str):
    """A friendly HTML page for an error outside the API (never a traceback)."""
    try:
        return render_template("error.html", status=status, message=message), status
    except Exception:  # the template itself failed: plain text still says what happened
        return f"Error {status}: {message}", status, {"Content-Type": "text/plain; charset=utf-8"}


def engine() -> Engine:
    """The app's engine, opened on first use (the index may be built after start-up)."""
    from flask import current_app

    eng = current_app.extensions.get("engine")
    if eng is None:
        eng = Engine(current_app.config["INDEX_DIR"], config=current_app.config["BACKEND"])
        current_app.extensions["engine"] = eng
    return eng


__all__ = ["create_app", "engine", "error_page", "error_response", "is_api_path"]
