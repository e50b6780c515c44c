"""Flask front end: ``create_app`` builds the JSON API and HTML views over one index.

No Whoosh here: the engine's dataclasses cross the boundary.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from search.errors import SearchError
from search.searcher import Engine
from search.store import default_index_dir

_STATUS = {"invalid_parameter": 400, "not_found": 404, "index_missing": 503, "index_version": 503, "index_locked": 503}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(INDEX_DIR=default_index_dir(), MAX_CONTENT_LENGTH=1024 * 1024)
    if test_config:
        app.config.from_mapping(test_config)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["engine"] = None

    from web import api, views

    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    @app.errorhandler(SearchError)
    def search_error(exc: SearchError):
        return error_response(exc.code, exc.message, exc.param, _STATUS.get(exc.code, 400))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if request.path.startswith("/api/") or request.path in ("/healthz",):
            code = (exc.name or "error").lower().replace(" ", "_")
            return error_response(code, exc.description or exc.name, None, exc.code or 500)
        return exc

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # never a traceback to the client
        app.logger.exception("unexpected error")
        return error_response("internal_error", "the server could not answer this request", None, 500)

    return app


def error_response(code: str, message: str, param: str | None, status: int):
    return jsonify({"error": {"code": code, "message": message, "param": param}}), status


def engine() -> Engine:
    """The app's engine, opened on first use (the index may be built after start-up)."""
    from flask import current_app

    eng = current_app.extensions.get("engine")
    if eng is None:
        eng = Engine(current_app.config["INDEX_DIR"])
        current_app.extensions["engine"] = eng
    return eng


__all__ = ["create_app", "engine", "error_response"]
