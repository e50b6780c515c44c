"""The OpenSearch index: its settings and mapping, and articles as the documents it stores.

The project's own analysis runs in Python; OpenSearch is sent its terms. Each text
field (``title_zh``…``captions_en``) is a string of analyzed terms, one group per
position separated by spaces, the terms of a group (jieba's sub-words sharing their
word's position) joined by ``|``: ``中俄关系|中俄|关系 cooper``. The index analyzer
splits on whitespace, then ``pattern_capture`` puts each term of a group at the group's
position, so terms, frequencies and positions are the ones the Whoosh index holds and
phrases match the same articles. The original text lives under ``doc`` in ``_source``
(not indexed) for snippets; the term strings are left out of ``_source``.
"""

from __future__ import annotations

import os

from search.analysis import ANALYZER_VERSION, analyze
from search.analysis.bigrams import bigrams
from search.model import Article
from search.query.plan import BIGRAM_FIELDS, TEXT_FIELDS

INDEXED_FIELDS = (*TEXT_FIELDS, *BIGRAM_FIELDS.values())

#: Bump when the mapping or the document layout changes (stored in the index's ``_meta``).
#: 2: Chinese bigram fields (title_bigrams, body_bigrams, captions_bigrams); 3: dup_group, dup_sig;
#: 4: the listing fields (:data:`LISTING_FIELDS`).
SCHEMA_VERSION = 4
GROUP = "|"  # joins the terms at one position; never part of a term (terms are letters, digits, dots)
#: What lists an article under another (its versions, related coverage: ``search.backends.base.summary``),
#: also kept as doc values: a listing read from them costs no stored-document read. The ten
#: versions of a page's stories read from ``_source`` cost the node ~1.5 ms of its ~2.3 ms for
#: that search (4x corpus); from doc values, ~0.1 ms. Stored field -> doc-value field.
LISTING_FIELDS = {"title_zh": "list_title_zh", "title_en": "list_title_en", "date_iso": "list_date", "source": "list_source"}
#: A doc value is at most 32,766 bytes: a listed value is cut to this many characters (4 bytes
#: each at most). Only a pathological title is that long; its listing shows the beginning.
LISTING_CHARS = 8_000


def versions() -> dict[str, int]:
    return {"analyzer_version": ANALYZER_VERSION, "schema_version": SCHEMA_VERSION}


def index_body(shards: int, replicas: int, max_result_window: int) -> dict:
    """Settings and mappings of a new index."""
    text = {"type": "text", "analyzer": "terms", "search_analyzer": "whitespace", "index_options": "positions"}
    return {
        "settings": {
            "index": {"number_of_shards": shards, "number_of_replicas": replicas, "max_result_window": max_result_window},
            "analysis": {
                # Terms may be long (a URL-like run of letters): keep them whole, as Whoosh does.
                "tokenizer": {"spaces": {"type": "whitespace", "max_token_length": 4096}},
                "filter": {"stacked": {"type": "pattern_capture", "preserve_original": False, "patterns": [r"([^|]+)"]}},
                "analyzer": {"terms": {"type": "custom", "tokenizer": "spaces", "filter": ["stacked"]}},
            },
        },
        "mappings": {
            "_meta": {"created_by": "news-search", **versions()},
            "_source": {"excludes": [*INDEXED_FIELDS, *LISTING_FIELDS.values()]},
            "dynamic": "strict",
            "properties": {
                "id": {"type": "keyword"},
                "digest": {"type": "keyword", "index": False, "doc_values": False},
                "path": {"type": "keyword"},
                "lang": {"type": "keyword"},
                "day": {"type": "integer"},  # YYYYMMDD in the article's own time zone, 0 when undated
                "year": {"type": "integer"},  # 0 when undated
                "speakers": {"type": "keyword"},
                # Near-duplicates (search/dedup.py, search/backends/opensearch/groups.py): the group's id
                # (collapsed on), and the MinHash signatures it was found with (read back by the next run).
                "dup_group": {"type": "keyword"},
                "dup_sig": {"type": "binary"},
                **{name: dict(text) for name in INDEXED_FIELDS},
                **{name: {"type": "keyword", "index": False, "doc_values": True} for name in LISTING_FIELDS.values()},
                "doc": {"type": "object", "enabled": False},
            },
        },
    }


def terms_string(text: str, tokens=analyze) -> str:
    """``text`` analyzed (by ``tokens``: words, or :func:`~search.analysis.bigrams.bigrams`), as
    the index analyzer reads it back: position groups of terms."""
    groups: list[list[str]] = []
    for token in tokens(text):
        while len(groups) <= token.pos:
            groups.append([])
        groups[token.pos].append(token.term)
    return " ".join(GROUP.join(group) for group in groups if group)


def to_source(item: tuple[Article, str]) -> dict:
    """The document stored for ``(article, digest)`` (runs in analysis worker processes)."""
    article, digest = item
    stored: dict[str, object] = {}
    source: dict[str, object] = {"id": article.id, "digest": digest, "lang": article.languages}
    for part in ("title", "body", "captions"):
        for lang in ("zh", "en"):
            text = article.text(part, lang)
            if text:
                stored[f"{part}_{lang}"] = text
                source[f"{part}_{lang}"] = terms_string(text)
                if lang == "zh":
                    source[BIGRAM_FIELDS[f"{part}_zh"]] = terms_string(text, bigrams)
    if article.path:
        source["path"] = os.path.abspath(article.path)
    if article.date:
        stored["date_iso"] = article.date.isoformat()
    source["day"] = int(article.date.strftime("%Y%m%d")) if article.date else 0
    source["year"] = article.date.year if article.date else 0
    source["speakers"] = [sp.id for sp in article.speakers]
    stored["speakers_data"] = [sp.to_dict() for sp in article.speakers]
    stored.update({key: value for key in ("source", "url", "dateline") if (value := getattr(article, key))})
    if article.meta:
        stored["meta"] = dict(article.meta)
    stored["lang"] = " ".join(article.languages)
    source["doc"] = stored
    for name, listed in LISTING_FIELDS.items():
        if stored.get(name):
            source[listed] = stored[name][:LISTING_CHARS]
    return source


def listing(hit: dict) -> dict:
    """The stored fields a listing shows (``id``, titles, date, source) of a hit asked for
    :func:`listing_request`, read from its doc values."""
    values = hit.get("fields") or {}
    fields = {"id": values["id"][0]}
    for name, listed in LISTING_FIELDS.items():
        if values.get(listed):
            fields[name] = values[listed][0]
    return fields


def listing_request() -> dict:
    """What a search (or ``top_hits``) asks to list its hits with :func:`listing`: doc values only."""
    return {"_source": False, "stored_fields": "_none_", "docvalue_fields": ["id", *LISTING_FIELDS.values()]}


def stored_fields(source: dict) -> dict:
    """A hit's ``_source`` as the engine's stored fields (the Whoosh backend's names)."""
    fields = dict(source.get("doc") or {})
    fields["id"] = source.get("id")
    fields.pop("speakers_data", None)
    return fields
