"""``GET /feed.atom``: the newest articles matching any search, as an Atom 1.0 feed (RFC 4287).

Takes the search page's query and filters (``/feed.atom?q=普京&speaker=Putin``), always
newest first, so a feed reader shows new articles for a query as they are indexed.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, request, url_for

from web.export import search_args
from web import params

bp = Blueprint("feeds", __name__)

FEED_PARAMS = ("q", "size", "from", "to", "speaker", "lang", "translate", "collapse")
ENDPOINT_PARAMS = {"/feed.atom": FEED_PARAMS}
ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 20
NAME = "新闻搜索 News search"


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items()})
    if text is not None:
        node.text = text
    return node


def _rfc3339(iso: str | None) -> str | None:
    """An article date as RFC 3339 (a date without a zone is taken as UTC)."""
    if not iso:
        return None
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).isoformat()


@bp.get("/feed.atom")
def feed():
    from web import engine
    from web.api import check_params

    check_params(FEED_PARAMS)
    size = params.integer(request.args, "size", default=FEED_SIZE, maximum=100)
    q, filters = search_args()
    result = engine().search(q, size=size, filters=dataclasses.replace(filters, sort="date"))
    state = [(k, request.args[k]) for k in FEED_PARAMS if k not in ("size",) and request.args.get(k, "").strip()]
    self_url = url_for("feeds.feed", _external=True) + ("?" + urlencode(state) if state else "")
    page_url = url_for("views.index", _external=True) + "?" + urlencode([("sort", "date")] + (state if q != "*" or state else [("q", "*")]))

    root = ET.Element("feed", {"xmlns": ATOM})
    described = " · ".join(f"{k}: {v}" for k, v in state if k != "q")
    _el(root, "title", f"{'' if q == '*' else q + ' – '}{NAME}" + (f" ({described})" if described else ""))
    _el(root, "subtitle", f"the newest {size} articles matching this search; {result.total} match in all")
    _el(root, "id", self_url)
    _el(root, "link", rel="self", type="application/atom+xml", href=self_url)
    _el(root, "link", rel="alternate", type="text/html", href=page_url)
    dates = [d for d in (_rfc3339(hit.date) for hit in result.hits) if d]
    updated = max(dates, key=datetime.fromisoformat) if dates else datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    _el(root, "updated", updated)
    _el(_el(root, "author"), "name", NAME)
    _el(root, "generator", "news-search")
    for hit in result.hits:
        entry = _el(root, "entry")
        article_url = url_for("views.article", article_id=hit.id, _external=True)
        _el(entry, "id", article_url)
        titles = [t for t in (hit.title.get("zh"), hit.title.get("en")) if t]
        _el(entry, "title", " · ".join(titles) or hit.id)
        _el(entry, "link", rel="alternate", type="text/html", href=article_url + ("?" + urlencode([("q", q)]) if q != "*" else ""))
        if hit.url and hit.url.startswith(("http://", "https://")):
            _el(entry, "link", rel="related", href=hit.url)
        when = _rfc3339(hit.date)
        _el(entry, "updated", when or updated)
        if when:
            _el(entry, "published", when)
        if hit.source:
            _el(_el(entry, "author"), "name", hit.source)
        for sp in hit.speakers:
            _el(entry, "category", term=sp["id"], label=" / ".join(n for n in (sp["names"].get("zh"), sp["names"].get("en")) if n) or sp["id"])
        snippets = [s for lang in ("zh", "en") for s in hit.snippets.get(lang, [])]
        if snippets:
            _el(entry, "summary", "".join(f"<p>{s}</p>" for s in snippets), type="html")
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return Response(body, content_type="application/atom+xml; charset=utf-8")
