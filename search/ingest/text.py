"""Plain-text articles: one per file, Chinese and English kept apart.

The news-page layout (see :mod:`search.ingest.newspage`) is recognized when
present; any other text still becomes an article, with a warning saying it was
read as plain text.
"""

from __future__ import annotations

from search.ingest.dates import chinese_event_date
from search.ingest.newspage import english_dateline_date, parse_news_page
from search.model import Article


def parse_text(text: str, article_id: str, *, path: str | None = None) -> tuple[Article, list[str]]:
    """Build an article from the text of one file; also return warnings.

    >>> a, _ = parse_text("標題\\n\\n正文第一段。\\n\\nXi meets Putin in Kazan\\n\\nBEIJING, Oct. 1 (Xinhua) -- Body.", "x")
    >>> a.title, sorted(a.body)
    ({'zh': '標題', 'en': 'Xi meets Putin in Kazan'}, ['en', 'zh'])
    """
    page = parse_news_page(text)
    warnings = []
    if not page.recognized:
        warnings.append(f"{path or article_id}: not in the news-page layout (no 發佈時間 line, dateline or caption); indexed as plain text")
    meta = dict(page.meta)
    lead = page.body["zh"][0] if page.body["zh"] else ""
    event = chinese_event_date(lead[len(page.dateline or "") :], page.published) if lead else None
    if event:
        meta["event_date"] = event[0].date().isoformat()
        if event[1]:
            meta["event_time_is_local"] = True
    en_lead = page.body["en"][0] if page.body["en"] else ""
    en_date = english_dateline_date(en_lead, page.published)
    if en_date:
        meta["dateline_date_en"] = en_date
    return (
        Article(
            id=article_id,
            title=dict(page.title),
            body={lang: "\n\n".join(paras) for lang, paras in page.body.items() if paras},
            captions={lang: "\n\n".join(lines) for lang, lines in page.captions.items() if lines},
            date=page.published,
            source=page.source,
            dateline=page.dateline or meta.get("dateline_en"),
            path=path,
            meta=meta,
        ),
        warnings,
    )
