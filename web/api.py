"""JSON API: ``/api/search``, ``/api/articles/<id>``, ``/healthz``."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from search.errors import QueryError
from search.filters import PARAMS as FILTER_PARAMS
from search.filters import SearchFilters

bp = Blueprint("api", __name__)

SEARCH_PARAMS = ("q", "size", "page", *FILTER_PARAMS)


@bp.get("/api/search")
def search():
    from web import engine

    args = request.args
    unknown = sorted(set(args) - set(SEARCH_PARAMS))
    if unknown:
        raise QueryError(f"unknown parameter {unknown[0]!r}; accepted: {', '.join(SEARCH_PARAMS)}", param=unknown[0])
    q = args.get("q")
    if q is None or not q.strip():
        raise QueryError("q (the query text) is required and must not be empty", param="q")
    filters = SearchFilters.from_params(args)
    result = engine().search(q, page=args.get("page", "1"), size=args.get("size", "10"), filters=filters)
    return jsonify(result.to_dict())


@bp.get("/api/articles/<path:article_id>")
def article(article_id: str):
    from web import engine

    fields = engine().article(article_id)
    return jsonify(
        {
            "id": fields["id"],
            "title": {"zh": fields.get("title_zh"), "en": fields.get("title_en")},
            "body": {"zh": fields.get("body_zh"), "en": fields.get("body_en")},
            "date": fields.get("date_iso"),
            "source": fields.get("source"),
            "url": fields.get("url"),
            "dateline": fields.get("dateline"),
        }
    )


@bp.get("/healthz")
def healthz():
    from web import engine

    return jsonify({"status": "ok", "articles": engine().count()})
