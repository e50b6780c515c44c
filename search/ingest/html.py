"""HTML pages: main text and metadata with trafilatura (scripts, styles, navigation dropped).

The extracted text then goes through the same news-page reading as text files,
so a saved Xinhua page and its text version give the same article.
"""

from __future__ import annotations

import re
from datetime import timezone

import trafilatura
from lxml import html as lxml_html

from search.ingest.dates import CHINA_TZ, iso_date
from search.ingest.text import parse_text
from search.model import Article

# htmldate (trafilatura's date finder) reads <meta>, JSON-LD, <time> and the URL, publication
# before modification; the output format keeps the time and the zone it found.
_DATE_PARAMS = {"original_date": True, "extensive_search": False, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}
_MAX_HTML_CHARS = 20_000_000


def parse_html(text: str, article_id: str, *, path: str | None = None) -> tuple[Article, list[str]]:
    """Build an article from an HTML page; also return warnings.

    >>> page = "<html><head><title>T</title><meta name='pubdate' content='2024-10-22T20:00:00+08:00'></head>"
    >>> page += "<body><script>x()</script><p>普京表示，俄中合作基於平等，雙方關係良好。</p></body></html>"
    >>> a, _ = parse_html(page, "p")
    >>> a.body["zh"], a.date.isoformat()
    ('普京表示，俄中合作基於平等，雙方關係良好。', '2024-10-22T20:00:00+08:00')
    """
    warnings: list[str] = []
    name = path or article_id
    doc = trafilatura.bare_extraction(
        text[:_MAX_HTML_CHARS], with_metadata=True, include_comments=False, include_tables=False, date_extraction_params=_DATE_PARAMS
    )
    extracted = (doc.text if doc is not None else "") or ""
    page_title = (doc.title if doc is not None else None) or _title_tag(text)
    article, _ = parse_text(_paragraphs(extracted), article_id, path=path)
    title = dict(article.title)
    if page_title and page_title not in title.values():
        lang = "zh" if re.search(r"[\u4e00-\u9fff]", page_title) else "en"
        title.setdefault(lang, page_title.strip())
    # The page title often repeats as the first line of the text: not body text.
    body = {lang: _drop_leading(value, title.get(lang)) for lang, value in article.body.items()}
    body = {lang: value for lang, value in body.items() if value}
    # A time without a zone is the source's: UTC+8 for a Chinese page, as for news pages.
    found = iso_date(doc.date, default_tz=CHINA_TZ if "zh" in body or "zh" in title else timezone.utc) if doc is not None and doc.date else None
    date = found or article.date
    if not body and not title:
        warnings.append(f"{name}: no main text found in the HTML page")
    return Article(
        id=article_id,
        title=title,
        body=body,
        captions=article.captions,
        date=date,
        source=article.source or (doc.sitename if doc is not None else None),
        url=(doc.url if doc is not None else None) or None,
        dateline=article.dateline,
        path=path,
        meta=article.meta,
    ), warnings


def _paragraphs(text: str) -> str:
    return "\n\n".join(line.strip() for line in text.splitlines() if line.strip())


def _drop_leading(body: str, title: str | None) -> str:
    if title and body.startswith(title):
        return body[len(title) :].lstrip()
    return body


def _title_tag(text: str) -> str | None:
    try:
        tree = lxml_html.fromstring(text[:_MAX_HTML_CHARS])
    except (ValueError, lxml_html.etree.ParserError):
        return None
    title = tree.findtext(".//title")
    return title.strip() if title and title.strip() else None
