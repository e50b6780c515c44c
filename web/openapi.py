"""The OpenAPI 3.1 document of the JSON API, served at ``/openapi.json``.

Written by hand so it says what the endpoints do; ``tests/test_web_api.py``
validates live responses against these schemas and checks that every
parameter the code accepts (``web.api.ENDPOINT_PARAMS``) is documented here.
"""

from __future__ import annotations

from copy import deepcopy

from search.filters import PARAMS as FILTER_PARAMS

API_VERSION = "1.0.0"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **extra) -> dict:
    return {"type": [kind, "null"], **extra}


def _query(name: str, schema: dict, description: str, *, required: bool = False, example: object = None) -> dict:
    param = {"name": name, "in": "query", "required": required, "description": description, "schema": schema}
    if example is not None:
        param["example"] = example
    return param


def _filter(name: str) -> str:
    return FILTER_PARAMS.get(name, name)


SEARCH_PARAMETERS = [
    _query("q", {"type": "string", "minLength": 1}, "the query, in any script and language, with the query syntax (quotes, AND/OR/NOT, -word, title:/body:); `*` alone matches every article (with the filters). Longer than 2,000 characters is truncated (see interpreted.warnings).", required=True, example="習近平"),
    _query("size", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}, "hits per page"),
    _query("page", {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 1}, "page number, from 1; hits past the 10,000th are not served (such pages are empty)"),
    _query("from", {"type": "string", "format": "date"}, _filter("from"), example="2024-10-01"),
    _query("to", {"type": "string", "format": "date"}, _filter("to") + "; not before `from`", example="2024-10-31"),
    _query("speaker", {"type": "string", "maxLength": 100}, _filter("speaker"), example="普京"),
    _query("lang", {"type": "string", "enum": ["zh", "en", "both"], "default": "both"}, _filter("lang") + "; both (default) means no language filter"),
    _query("sort", {"type": "string", "enum": ["relevance", "date"], "default": "relevance"}, _filter("sort")),
    _query("translate", {"type": "boolean", "default": True}, _filter("translate") + " (also accepted: 1/0, yes/no, on/off)"),
    _query("collapse", {"type": "boolean", "default": True}, _filter("collapse") + "; paging counts stories then (also accepted: 1/0, yes/no, on/off)"),
]

SPEAKER_PARAMETERS = [
    _query("prefix", {"type": "string", "maxLength": 100, "default": ""}, "the start of a name or of any word of its English form, in either language and either script (`put`, `普`, `習`); empty gives no suggestions", example="普"),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}, "at most this many speakers"),
]

SUGGEST_PARAMETERS = [
    _query("q", {"type": "string", "maxLength": 100, "default": ""}, "what the user typed so far, any script or language (`習`, `习近`, `coop`); empty gives no suggestions", example="普"),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 20, "default": 8}, "at most this many suggestions"),
]

_FILTER_PARAMETERS = [p for p in SEARCH_PARAMETERS if p["name"] in FILTER_PARAMS]
_OPTIONAL_Q = _query("q", {"type": "string", "default": "*"}, "the query, as for /api/search; absent or empty: every article (with the filters)", example="普京")

EXPORT_PARAMETERS = [
    _OPTIONAL_Q,
    _query("format", {"type": "string", "enum": ["csv", "jsonl"], "default": "csv"}, "CSV (UTF-8 with a byte-order mark, one header line) or JSON Lines (one hit object per line)"),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 50000, "default": 50000}, "at most this many articles (the first ones in the order of the result pages)"),
    _query("body", {"type": "boolean", "default": False}, "also write each article's whole text (CSV columns body_zh, body_en; JSON Lines key body)"),
    *_FILTER_PARAMETERS,
]

FEED_PARAMETERS = [
    _OPTIONAL_Q,
    _query("size", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "entries in the feed: the newest matches"),
    *[p for p in _FILTER_PARAMETERS if p["name"] != "sort"],
]

NAMES = {
    "type": "object",
    "description": "a name or text per language; null where the language is absent",
    "properties": {"zh": _nullable("string"), "en": _nullable("string")},
    "required": ["zh", "en"],
    "additionalProperties": False,
}

#: An article as a hit or as listed under one (search.backends.base.summary).
SUMMARY = {
    "id": {"type": "string"},
    "title": _ref("Names"),
    "date": _nullable("string", format="date-time"),
    "source": _nullable("string"),
}

SCHEMAS: dict[str, dict] = {
    "Error": {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "string", "description": "machine-readable: invalid_parameter, not_found, method_not_allowed, index_missing, index_version, index_locked, backend_unavailable, internal_error"},
                    "message": {"type": "string", "minLength": 1},
                    "param": {"type": ["string", "null"], "description": "the parameter that caused the error, if one did"},
                },
                "required": ["code", "message", "param"],
                "additionalProperties": False,
            }
        },
        "required": ["error"],
        "additionalProperties": False,
    },
    "Names": NAMES,
    "Speaker": {
        "type": "object",
        "description": "a person quoted in an article",
        "properties": {"id": {"type": "string"}, "names": _ref("Names"), "quotes": {"type": "integer", "minimum": 0}},
        "required": ["id", "names"],
    },
    "SpeakerCount": {
        "type": "object",
        "properties": {"id": {"type": "string"}, "names": _ref("Names"), "count": {"type": "integer", "minimum": 0}},
        "required": ["id", "names", "count"],
        "additionalProperties": False,
    },
    "YearCount": {
        "type": "object",
        "properties": {"year": {"type": "integer"}, "count": {"type": "integer", "minimum": 0}},
        "required": ["year", "count"],
        "additionalProperties": False,
    },
    "MonthCount": {
        "type": "object",
        "properties": {"month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}, "count": {"type": "integer", "minimum": 1}},
        "required": ["month", "count"],
        "additionalProperties": False,
    },
    "DayCount": {
        "type": "object",
        "properties": {"day": {"type": "string", "format": "date"}, "count": {"type": "integer", "minimum": 1}},
        "required": ["day", "count"],
        "additionalProperties": False,
    },
    "Suggestion": {
        "type": "object",
        "description": "a frequent word (term), a person quoted in the index (speaker: `id`, `names`; use it as the speaker filter) or an article title (title: `id` of the article, `lang`)",
        "properties": {
            "type": {"type": "string", "enum": ["term", "speaker", "title"]},
            "text": {"type": "string", "description": "what to show and search; Chinese in the script the user typed"},
            "lang": {"type": "string", "enum": ["zh", "en"]},
            "count": {"type": "integer", "minimum": 0, "description": "articles holding the word, or quoting the speaker"},
            "id": {"type": "string"},
            "names": _ref("Names"),
        },
        "required": ["type", "text"],
        "additionalProperties": False,
    },
    "SuggestionList": {
        "type": "object",
        "properties": {"q": {"type": "string"}, "suggestions": {"type": "array", "items": _ref("Suggestion")}},
        "required": ["q", "suggestions"],
        "additionalProperties": False,
    },
    "Interpretation": {
        "type": "object",
        "description": "what the engine understood: the query in one script, the analyzed terms per language",
        "properties": {
            "normalized": {"type": "string"},
            "terms": {
                "type": "object",
                "properties": {
                    "zh": {"type": "array", "items": {"type": "string"}},
                    "en": {"type": "array", "items": {"type": "string"}},
                    "other": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["zh", "en"],
                "additionalProperties": False,
            },
            "phrases": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}},
            "excluded": {"type": "array", "items": {"type": "string"}},
            "fields": {"type": "array", "items": {"type": "string", "enum": ["title", "body"]}},
            "warnings": {"type": "array", "items": {"type": "string"}},
            "translations": {
                "type": "array",
                "description": "query terms also searched in the other language, one entry per concept; empty when translate=false or nothing was found",
                "items": {
                    "type": "object",
                    "properties": {
                        "term": {"type": "string", "description": "as typed"},
                        "converted": {"type": "string", "description": "its analyzed form"},
                        "lang": {"type": "string", "description": "the language of the term"},
                        "translations": {"type": "array", "items": {"type": "string"}},
                        "excluded": {"type": "boolean", "description": "true for a NOT-ed term"},
                    },
                    "required": ["term", "translations"],
                },
            },
            "dropped": {
                "type": "array",
                "items": {"type": "string"},
                "description": "words of the query (as typed) that no article holds together with the others: "
                "`total` then counts the articles holding the other words; empty when some article holds every word",
            },
            "sources": {
                "type": "array",
                "items": {"type": "string"},
                "description": "site names ending a pasted page title, after a dash, bar or underscore (`… - 新华网`, `… | Reuters`): "
                "they add to the score of articles holding them; no article must hold them, and holding only them is no match",
            },
            "words": {
                "type": "object",
                "description": "the searched words as typed, per language (`climate change`, where `terms` holds the stems `climat`, `chang`); Chinese in one script",
                "properties": {
                    "zh": {"type": "array", "items": {"type": "string"}},
                    "en": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["zh", "en"],
                "additionalProperties": False,
            },
            "corrections": {
                "type": "array",
                "description": "typos corrected: Latin-script words neither the index nor the translation lexicon holds, replaced by the nearest word of the index (one edit for 5-8 letters, two for longer), most frequent first; a word in quotes is never corrected",
                "items": {
                    "type": "object",
                    "properties": {"typed": {"type": "string"}, "corrected": {"type": "string"}},
                    "required": ["typed", "corrected"],
                    "additionalProperties": False,
                },
            },
            "corrected_query": {"type": ["string", "null"], "description": "the query as searched when a word was corrected (`Putin`), else null"},
            "verbatim_query": {"type": ["string", "null"], "description": "the query that searches the corrected words as typed (`\"Pution\"`), else null"},
            "pinyin": {
                "type": "array",
                "description": "Latin input read as pinyin (tones ignored): the index's Chinese words it spells, most frequent first, also searched",
                "items": {
                    "type": "object",
                    "properties": {"typed": {"type": "string"}, "words": {"type": "array", "items": {"type": "string"}}},
                    "required": ["typed", "words"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["normalized", "terms", "phrases", "excluded", "fields", "warnings", "translations", "words", "corrections", "corrected_query", "verbatim_query", "pinyin", "dropped", "sources"],
    },
    "Hit": {
        "type": "object",
        "properties": {
            **SUMMARY,
            "url": _nullable("string"),
            "score": {"type": "number"},
            "snippets": {
                "type": "object",
                "description": "HTML fragments: everything escaped, matches wrapped in <mark>; in the article's original script",
                "properties": {
                    "zh": {"type": "array", "items": {"type": "string"}},
                    "en": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["zh", "en"],
                "additionalProperties": False,
            },
            "speakers": {"type": "array", "items": _ref("Speaker")},
            "duplicates": {
                "type": "object",
                "description": "with collapse=true (the default): the other matching versions of this story (near-duplicates, copies in the other script or language, re-filings), not shown as hits of their own",
                "properties": {
                    "count": {"type": "integer", "minimum": 0},
                    "ids": {"type": "array", "items": {"type": "string"}, "maxItems": 50},
                },
                "required": ["count", "ids"],
                "additionalProperties": False,
            },
        },
        "required": ["id", "title", "date", "source", "url", "score", "snippets", "speakers"],
        "additionalProperties": False,
    },
    "SearchResult": {
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "interpreted": _ref("Interpretation"),
            "total": {
                "type": "integer",
                "minimum": 0,
                "description": "articles holding every word of the query (or a translation of it; a Chinese chunk of five words or more, read as a sentence, in Chinese only); they come first",
            },
            "total_partial": {
                "type": "integer",
                "minimum": 0,
                "description": "articles holding only some of the words, listed after the `total` complete matches",
            },
            "total_groups": {"type": "integer", "minimum": 0, "description": "the stories the listed articles (complete and partial matches) make: groups of near-duplicates (the hits when collapse=true)"},
            "collapse": {"type": "boolean", "description": "one hit per story"},
            "page": {"type": "integer", "minimum": 1},
            "size": {"type": "integer", "minimum": 1, "maximum": 100},
            "took_ms": {"type": "number", "minimum": 0},
            "sort": {"type": "string", "enum": ["relevance", "date"]},
            "filters": {
                "type": "object",
                "description": "the filters in effect",
                "properties": {
                    "from": {"type": "string", "format": "date"},
                    "to": {"type": "string", "format": "date"},
                    "speaker": {"type": "string"},
                    "lang": {"type": "string", "enum": ["zh", "en"]},
                },
                "additionalProperties": False,
            },
            "facets": {
                "type": "object",
                "description": "counts over all complete matches (`total`, not only this page); empty when nothing could match",
                "properties": {
                    "speakers": {"type": "array", "items": _ref("SpeakerCount")},
                    "years": {"type": "array", "items": _ref("YearCount")},
                    "months": {"type": "array", "items": _ref("MonthCount"), "description": "the timeline: matches per month, oldest first, months without any left out"},
                    "days": {"type": "array", "items": _ref("DayCount"), "description": "matches per day, oldest first, when the dated matches span at most 62 days; else empty"},
                },
                "additionalProperties": False,
            },
            "hits": {"type": "array", "items": _ref("Hit")},
        },
        "required": ["query", "interpreted", "total", "total_partial", "total_groups", "collapse", "page", "size", "took_ms", "sort", "filters", "facets", "hits"],
        "additionalProperties": False,
    },
    "ArticleSummary": {
        "type": "object",
        "properties": {
            **SUMMARY,
            "score": {"type": "number", "description": "more-like-this score (related articles only)"},
        },
        "required": ["id", "title", "date", "source"],
        "additionalProperties": False,
    },
    "Similar": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "versions": {"type": "array", "items": _ref("ArticleSummary"), "description": "other versions of this article: near-duplicates, copies in the other script or language"},
            "related": {"type": "array", "items": _ref("ArticleSummary"), "description": "other stories on the same subject, best first (more-like-this over the article's distinctive terms, in both languages)"},
        },
        "required": ["id", "versions", "related"],
        "additionalProperties": False,
    },
    "Article": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "title": _ref("Names"),
            "body": _ref("Names"),
            "date": _nullable("string", format="date-time"),
            "source": _nullable("string"),
            "url": _nullable("string"),
            "dateline": _nullable("string"),
            "captions": _ref("Names"),
            "speakers": {"type": "array", "items": _ref("Speaker")},
        },
        "required": ["id", "title", "body", "date", "source", "url", "dateline", "captions", "speakers"],
        "additionalProperties": False,
    },
    "SpeakerList": {
        "type": "object",
        "properties": {"prefix": {"type": "string"}, "speakers": {"type": "array", "items": _ref("SpeakerCount")}},
        "required": ["prefix", "speakers"],
        "additionalProperties": False,
    },
    "Stats": {
        "type": "object",
        "properties": {
            "articles": {"type": "integer", "minimum": 0},
            "languages": {
                "type": "object",
                "description": "articles with text in each language (a bilingual article counts in both)",
                "properties": {"zh": {"type": "integer", "minimum": 0}, "en": {"type": "integer", "minimum": 0}},
                "required": ["zh", "en"],
                "additionalProperties": False,
            },
            "years": {"type": "array", "items": _ref("YearCount"), "description": "newest first"},
            "undated": {"type": "integer", "minimum": 0},
            "index_bytes": {"type": "integer", "minimum": 0, "description": "size of the index folder on disk"},
            "analyzer_version": {"type": "integer"},
            "schema_version": {"type": "integer"},
        },
        "required": ["articles", "languages", "years", "undated", "index_bytes", "analyzer_version", "schema_version"],
        "additionalProperties": False,
    },
    "Health": {
        "type": "object",
        "properties": {"status": {"const": "ok"}, "articles": {"type": "integer", "minimum": 0}},
        "required": ["status", "articles"],
        "additionalProperties": False,
    },
}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _ok(description: str, schema: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


UNAVAILABLE = _error(
    "no index yet (index_missing), built by another version (index_version), or an OpenSearch cluster "
    "that cannot be reached or is red (backend_unavailable)"
)
BAD = _error("a parameter is invalid or unknown (invalid_parameter; `param` names it)")

PATHS = {
    "/api/search": {
        "get": {
            "operationId": "search",
            "summary": "Search articles",
            "description": "One page of hits, each with titles in both languages and highlighted snippets; facet counts over all matches.",
            "parameters": SEARCH_PARAMETERS,
            "responses": {"200": _ok("one page of results", "SearchResult"), "400": BAD, "503": UNAVAILABLE},
        }
    },
    "/api/articles/{id}": {
        "get": {
            "operationId": "article",
            "summary": "One article, whole",
            "parameters": [{"name": "id", "in": "path", "required": True, "description": "the article id (as in hits[].id)", "schema": {"type": "string"}}],
            "responses": {
                "200": _ok("the article's stored text and metadata, in its original script", "Article"),
                "400": BAD,
                "404": _error("no article with this id (not_found)"),
                "503": UNAVAILABLE,
            },
        }
    },
    "/api/articles/{id}/similar": {
        "get": {
            "operationId": "similar",
            "summary": "Other versions of an article and related coverage",
            "parameters": [
                {"name": "id", "in": "path", "required": True, "description": "the article id (as in hits[].id)", "schema": {"type": "string"}},
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}, "at most this many related articles"),
            ],
            "responses": {
                "200": _ok("its versions and related articles", "Similar"),
                "400": BAD,
                "404": _error("no article with this id (not_found)"),
                "503": UNAVAILABLE,
            },
        }
    },
    "/api/speakers": {
        "get": {
            "operationId": "speakers",
            "summary": "Speaker names for autocomplete",
            "description": "Speakers quoted in the index whose name starts with `prefix`, most quoted first. Any of their names works as the `speaker` filter of /api/search.",
            "parameters": SPEAKER_PARAMETERS,
            "responses": {"200": _ok("matching speakers with their article counts", "SpeakerList"), "400": BAD, "503": UNAVAILABLE},
        }
    },
    "/api/suggest": {
        "get": {
            "operationId": "suggest",
            "summary": "Suggestions as you type",
            "description": "Speakers, frequent words and article titles completing `q`, in either script and language; matching ignores script and case.",
            "parameters": SUGGEST_PARAMETERS,
            "responses": {"200": _ok("speakers first, then words, then titles", "SuggestionList"), "400": BAD, "503": UNAVAILABLE},
        }
    },
    "/api/export": {
        "get": {
            "operationId": "export",
            "summary": "All matches of a search, as CSV or JSON Lines",
            "description": "Streamed while the index is read, in the order of the result pages (`sort`), at most 50,000 rows. Headers: `X-Total-Count` (all matches), `X-Export-Count` (rows written). CSV cells starting with = + - @ get a leading apostrophe so spreadsheets do not run them.",
            "parameters": EXPORT_PARAMETERS,
            "responses": {
                "200": {
                    "description": "the rows: id, date, titles, source, url, speakers, score, link (the article page) and, with body=true, the texts",
                    "content": {"text/csv": {"schema": {"type": "string"}}, "application/jsonl": {"schema": {"type": "string"}}},
                },
                "400": BAD,
                "503": UNAVAILABLE,
            },
        }
    },
    "/feed.atom": {
        "get": {
            "operationId": "feed",
            "summary": "Atom feed of the newest matches of a search",
            "description": "An Atom 1.0 document (RFC 4287) of the newest `size` matches, newest first; each entry links the article page and has the highlighted snippets as its summary. Errors are an HTML page with the status.",
            "parameters": FEED_PARAMETERS,
            "responses": {
                "200": {"description": "the feed", "content": {"application/atom+xml": {"schema": {"type": "string"}}}},
                "400": {"description": "a parameter is invalid or unknown (an HTML page saying which)"},
                "503": {"description": "no index yet (an HTML page)"},
            },
        }
    },
    "/api/stats": {
        "get": {
            "operationId": "stats",
            "summary": "What is in the index",
            "responses": {"200": _ok("article counts by language and year, size on disk, versions", "Stats"), "400": BAD, "503": UNAVAILABLE},
        }
    },
    "/healthz": {
        "get": {
            "operationId": "health",
            "summary": "Liveness and article count",
            "responses": {"200": _ok("the index is open", "Health"), "400": BAD, "503": UNAVAILABLE},
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": {"200": {"description": "the OpenAPI 3.1 document", "content": {"application/json": {"schema": {"type": "object"}}}}, "400": BAD},
        }
    },
}


def document() -> dict:
    """A fresh copy of the whole OpenAPI document."""
    return deepcopy(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "News search API (中文 + English)",
                "version": API_VERSION,
                "description": (
                    "Full-text search over Chinese (traditional and simplified) and English news. "
                    "All responses are JSON in UTF-8 with real characters. Unknown parameters are refused (400). "
                    "Errors always have the shape of the Error schema. CORS is off unless the server is configured with allowed origins."
                ),
            },
            "paths": PATHS,
            "components": {"schemas": SCHEMAS},
        }
    )
