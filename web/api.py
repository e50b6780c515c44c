"""JSON API: ``/api/search``, ``/api/articles/<id>``, ``/api/speakers``, ``/api/stats``,
``/healthz`` and ``/openapi.json`` (the OpenAPI 3.1 document of all of them).

Every endpoint refuses parameters it does not know (400), so typos never pass
silently; errors have one shape: ``{"error": {"code", "message", "param"}}``.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from search.errors import QueryError
from search.filters import PARAMS as FILTER_PARAMS
from search.filters import SearchFilters
from search.searcher import MAX_DEPTH, MAX_SIZE
from web import params

bp = Blueprint("api", __name__)

SEARCH_PARAMS = ("q", "size", "page", *FILTER_PARAMS)
SPEAKER_PARAMS = ("prefix", "limit")
SPEAKER_LIMIT_MAX = 50
SPEAKER_PREFIX_MAX = 100
#: The documented values of the enum parameters (``/openapi.json``), accepted exactly.
LANG_VALUES = ("zh", "en", "both")
SORT_VALUES = ("relevance", "date")

#: Route (as written in the OpenAPI document) → the query parameters it accepts.
ENDPOINT_PARAMS: dict[str, tuple[str, ...]] = {
    "/api/search": SEARCH_PARAMS,
    "/api/articles/{id}": (),
    "/api/speakers": SPEAKER_PARAMS,
    "/api/stats": (),
    "/healthz": (),
    "/openapi.json": (),
}


def check_params(accepted: tuple[str, ...]) -> None:
    """Refuse unknown parameters and repeated ones (every parameter takes one value)."""
    params.check_names(request.args, accepted)


def filter_args(args) -> SearchFilters:
    """The filters of a search request (``/api/search``, exports, feeds), strictly read."""
    params.choice(args, "lang", LANG_VALUES)
    params.choice(args, "sort", SORT_VALUES)
    params.not_blank(args, ("from", "to", "translate"))
    return SearchFilters.from_params(args)


@bp.get("/api/search")
def search():
    from web import engine

    check_params(SEARCH_PARAMS)
    args = request.args
    q = args.get("q")
    if q is None or not q.strip():
        raise QueryError("q (the query text) is required and must not be empty", param="q")
    size = params.integer(args, "size", default=10, maximum=MAX_SIZE)
    page = params.integer(args, "page", default=1, maximum=MAX_DEPTH)
    filters = filter_args(args)
    result = engine().search(q, page=page, size=size, filters=filters)
    return jsonify(result.to_dict())


def article_json(fields: dict) -> dict:
    """The public form of an article's stored fields (API and article page)."""
    return {
        "id": fields["id"],
        "title": {"zh": fields.get("title_zh"), "en": fields.get("title_en")},
        "body": {"zh": fields.get("body_zh"), "en": fields.get("body_en")},
        "date": fields.get("date_iso"),
        "source": fields.get("source"),
        "url": fields.get("url"),
        "dateline": fields.get("dateline"),
        "captions": {"zh": fields.get("captions_zh"), "en": fields.get("captions_en")},
        "speakers": list(fields.get("speakers_data") or []),
    }


@bp.get("/api/articles/<path:article_id>")
def article(article_id: str):
    from web import engine

    check_params(ENDPOINT_PARAMS["/api/articles/{id}"])
    return jsonify(article_json(engine().article(article_id)))


@bp.get("/api/speakers")
def speakers():
    from web import engine

    check_params(SPEAKER_PARAMS)
    prefix = params.bounded_text(request.args, "prefix", SPEAKER_PREFIX_MAX)
    limit = params.integer(request.args, "limit", default=10, maximum=SPEAKER_LIMIT_MAX)
    eng = engine()  # 503 without an index, even for an empty prefix
    found = eng.suggest_speakers(prefix, limit) if prefix else []
    return jsonify(
        {
            "prefix": prefix,
            "speakers": [
                {"id": sp["id"], "names": {"zh": sp["names"].get("zh"), "en": sp["names"].get("en")}, "count": sp["count"]}
                for sp in found
            ],
        }
    )


@bp.get("/api/stats")
def stats():
    from web import engine

    check_params(ENDPOINT_PARAMS["/api/stats"])
    return jsonify(engine().stats())


@bp.get("/healthz")
def healthz():
    from web import engine

    check_params(ENDPOINT_PARAMS["/healthz"])
    return jsonify({"status": "ok", "articles": engine().count()})


@bp.get("/openapi.json")
def openapi():
    from web.openapi import document

    check_params(ENDPOINT_PARAMS["/openapi.json"])
    return jsonify(document())
