"""Plain-text articles: one per file, Chinese and English paragraphs kept apart.

Recognizes the common news-page layout (breadcrumb, title, a
``發佈時間:… | 來源:…`` line, paragraphs, then an English version of the
story with its own headline) without requiring it: any text file becomes an
article, its paragraphs sorted into the Chinese or English body by script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from search.ingest.dates import CHINA_TZ, parse_date
from search.ingest.language import language_of
from search.model import Article

_PUBLISHED = re.compile(r"(?:發佈時間|发布时间|發布時間|时间|時間)\s*[:：]\s*(?P<date>\d{4}[-/年]\d{1,2}[-/月]\d{1,2}日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?)")
_SOURCE = re.compile(r"(?:來源|来源)\s*[:：]\s*(?P<source>[^|｜\n]+)")
_BREADCRUMB = re.compile(r"^\S{1,12}(?:\s*[>›»]\s*\S{0,12})+$")
_EN_DATELINE = re.compile(r"^[A-Z][A-Z .'-]+,.{0,60}?\((?:Xinhua|Reuters|AP|AFP|CGTN|China Daily)\)\s*[-–—]+")
_TITLE_MAX = 120


@dataclass
class _Halves:
    title: dict[str, str] = field(default_factory=dict)
    paragraphs: dict[str, list[str]] = field(default_factory=lambda: {"zh": [], "en": []})


def parse_text(text: str, article_id: str, *, path: str | None = None) -> Article:
    """Build an article from the text of one file.

    >>> a = parse_text("標題\\n\\n正文第一段。\\n\\nXi meets Putin in Kazan\\n\\nBEIJING, Oct. 1 (Xinhua) -- Body.", "x")
    >>> a.title, sorted(a.body)
    ({'zh': '標題', 'en': 'Xi meets Putin in Kazan'}, ['en', 'zh'])
    """
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    halves = _Halves()
    date = None
    source = None
    for index, line in enumerate(lines):
        published = _PUBLISHED.search(line)
        if published and date is None:
            date = parse_date(published.group("date"), default_tz=CHINA_TZ)
            found = _SOURCE.search(line)
            if found:
                source = found.group("source").strip() or None
            continue
        if index < 3 and _BREADCRUMB.match(line):
            continue
        lang = language_of(line)
        if lang is None:
            continue
        if lang not in halves.title and _is_title(lines, index, lang):
            halves.title[lang] = line
            continue
        halves.paragraphs[lang].append(line)
    body = {lang: "\n\n".join(paras) for lang, paras in halves.paragraphs.items() if paras}
    return Article(
        id=article_id,
        title=dict(halves.title),
        body=body,
        date=date,
        source=source,
        path=path,
    )


def _is_title(lines: list[str], index: int, lang: str) -> bool:
    """A short line followed by body text of the same language, not ending like a sentence."""
    line = lines[index]
    if len(line) > _TITLE_MAX or line.endswith(("。", ".", "■", "：", ":")) and lang == "zh":
        return False
    if lang == "en" and (len(line.split()) < 3 or _EN_DATELINE.match(line)):
        return False
    rest = lines[index + 1 : index + 4]
    if not rest:
        return False
    following = [language_of(other) for other in rest if not _PUBLISHED.search(other)]
    return lang in following
