"""Hostile text stays inert: articles and queries carrying ``<script>``, ``"><img onerror>``,
``javascript:`` URLs and attribute breakouts, through the JSON API and the HTML pages.

HTML pages are parsed (``html.parser``) and checked structurally: the only scripts are the
app's own files, no element has an ``on*`` handler, no link or source is a ``javascript:``
URL, no ``<iframe>``/``<svg>``/``<img src=x>`` was injected, and the hostile text is there,
escaped, so the check is not vacuous. API snippets are HTML holding only ``<mark>``; other
API strings are data (JSON, ``nosniff``) and come back exactly as indexed.
"""

from __future__ import annotations

import re
import urllib.parse
from html.parser import HTMLParser

import pytest

from tests.reldata import XSS, XSS_IDS, build_xss_index, xss_records
from tests.webdata import web_app

URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "poster", "data", "background", "cite"}
FORBIDDEN_TAGS = {"iframe", "svg", "object", "embed", "frame", "frameset", "base", "math"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with web_app(build_xss_index(tmp_path_factory.mktemp("xss"))) as app:
        yield app


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def _url_scheme(value: str) -> str:
    cleaned = re.sub(r"[\x00-\x20\x7f]+", "", value).lower()
    return cleaned.split(":", 1)[0] if ":" in cleaned else ""


def assert_inert(html: str, where: str) -> list[tuple[str, dict]]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.elements:
        assert tag not in FORBIDDEN_TAGS, f"{where}: injected <{tag}>"
        if tag == "script":
            assert (attrs.get("src") or "").startswith("/static/"), f"{where}: inline or foreign <script> {attrs}"
        if tag == "img":
            assert (attrs.get("src") or "").startswith(("/static/", "data:image/")), f"{where}: injected <img> {attrs}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"{where}: event handler attribute on <{tag}>: {name}={value!r}"
            assert name not in ("srcdoc", "autofocus") or tag == "input" and name == "autofocus", f"{where}: <{tag} {name}>"
            if name in URL_ATTRS and value:
                assert _url_scheme(value) not in ("javascript", "vbscript", "data") or value.startswith("data:image/"), f"{where}: <{tag} {name}={value!r}>"
    return parser.elements


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    assert response.mimetype == "text/html"
    csp = response.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    return response.get_data(as_text=True)


def article_url(article_id: str, **params) -> str:
    return "/articles/" + urllib.parse.quote(article_id, safe="") + ("?" + urllib.parse.urlencode(params) if params else "")


# --- the JSON API ------------------------------------------------------------------------------------


def strip_marks(snippet: str) -> str:
    return snippet.replace("<mark>", "").replace("</mark>", "")


@pytest.mark.parametrize("q", ["Putin", "普京", "script", "onerror", "window", "javascript", XSS["script"], XSS["img"]])
def test_api_snippets_hold_only_mark_tags(client, q):
    response = client.get("/api/search?" + urllib.parse.urlencode({"q": q, "size": 10}))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    hits = response.get_json()["hits"]
    if q in ("Putin", "普京", "script"):
        assert hits, q
    for hit in hits:
        for lang, snippets in hit["snippets"].items():
            for snippet in snippets:
                text = strip_marks(snippet)
                assert "<" not in text and ">" not in text, f"{hit['id']} {lang}: {snippet!r}"
                assert '"' not in text, f"{hit['id']} {lang}: quotes are escaped too: {snippet!r}"


def test_api_search_shows_the_hostile_text_escaped_not_dropped(client):
    response = client.get("/api/search?q=Putin&size=10")
    snippets = " ".join(s for hit in response.get_json()["hits"] for ss in hit["snippets"].values() for s in ss)
    assert "&lt;script&gt;window.__xss=1;alert(1)&lt;/script&gt;" in snippets
    assert "&lt;img src=x onerror=" in snippets


def test_api_strings_are_data_returned_exactly(client):
    records = {r["id"]: r for r in xss_records()}
    for article_id in XSS_IDS:
        response = client.get("/api/articles/" + urllib.parse.quote(article_id, safe=""))
        assert response.status_code == 200, article_id
        assert response.mimetype == "application/json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        body = response.get_json()
        record = records[article_id]
        title = record["title"]
        assert body["id"] == article_id
        assert (body["title"] if isinstance(title, dict) else body["title"]["en"]) == title
        assert body["url"] == record["url"]


def test_api_errors_echoing_hostile_values_are_json(client):
    for url in (
        "/api/search?" + urllib.parse.urlencode({"q": "x", "size": XSS["script"]}),
        "/api/search?" + urllib.parse.urlencode({"q": "x", "from": XSS["img"]}),
        "/api/search?" + urllib.parse.urlencode({"q": "x", XSS["svg"]: "1"}),
        "/api/articles/" + urllib.parse.quote(XSS["script"], safe=""),
    ):
        response = client.get(url)
        assert 400 <= response.status_code < 500
        assert response.mimetype == "application/json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert set(response.get_json()) == {"error"}


# --- the HTML pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["Putin", "普京", "onerror", XSS["script"], XSS["img"], XSS["attr"], XSS["js_url"], XSS["iframe"]])
def test_search_page_is_inert(client, q):
    html = page(client, "/?" + urllib.parse.urlencode({"q": q}))
    elements = assert_inert(html, q)
    # The query is echoed in the search box, as a value and nothing else.
    assert any(tag == "input" and attrs.get("name") == "q" and attrs.get("value") == q for tag, attrs in elements)
    if q == "Putin":
        assert "&lt;script&gt;window.__xss=1;alert(1)&lt;/script&gt;" in html  # titles and snippets, escaped
        assert "&lt;b onmouseover=" in html  # the source
        links = [attrs.get("href", "") for tag, attrs in elements if tag == "a"]
        paths = {urllib.parse.unquote(urllib.parse.urlsplit(link).path) for link in links}
        assert "/articles/" + XSS_IDS[2] in paths, "the hostile id's article is linked (quoted)"


@pytest.mark.parametrize("param", ["speaker", "from", "to", "lang", "sort", "script", "size", "page", "translate"])
@pytest.mark.parametrize("payload", ["script", "img", "attr"])
def test_search_page_echoing_hostile_parameters_is_inert(client, param, payload):
    response = client.get("/?" + urllib.parse.urlencode({"q": "Putin", param: XSS[payload]}))
    assert response.status_code in (200, 400)
    assert response.mimetype == "text/html"
    assert_inert(response.get_data(as_text=True), f"{param}={payload}")


@pytest.mark.parametrize("article_id", XSS_IDS)
@pytest.mark.parametrize("q", [None, "Putin", XSS["script"], XSS["img"]])
def test_article_page_is_inert(client, article_id, q):
    html = page(client, article_url(article_id, **({"q": q} if q else {})))
    elements = assert_inert(html, f"{article_id} q={q}")
    assert "&lt;script&gt;window.__xss=1;alert(1)&lt;/script&gt;" in html or "&lt;img src=x onerror=" in html
    hrefs = [attrs.get("href") or "" for tag, attrs in elements if tag == "a"]
    assert not any(_url_scheme(h) == "javascript" for h in hrefs)


def test_article_page_links_a_safe_url_only_quoted(client):
    html = page(client, article_url(XSS_IDS[2]))
    elements = assert_inert(html, XSS_IDS[2])
    external = [attrs["href"] for tag, attrs in elements if tag == "a" and (attrs.get("href") or "").startswith("https://example.com/")]
    for href in external:  # the breakout characters stay inside the attribute value
        assert href == xss_records()[2]["url"]


@pytest.mark.parametrize("payload", sorted(XSS))
def test_missing_article_page_echoing_a_hostile_id_is_inert(client, payload):
    response = client.get(article_url(XSS[payload]))
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert_inert(response.get_data(as_text=True), payload)
