"""News pages scraped as text: the Xinhua-style bilingual layout.

::

    首頁 > 頭條                                       breadcrumb (dropped)
    習近平同俄羅斯總統普京舉行會晤                      Chinese title
    發佈時間:2024-10-23 08:59:26 | 來源:新華網 | 作者: | 責任編輯:張芃芃
    新華社俄羅斯喀山10月22日電(記者 郝薇薇 黃河)當地時間…    dateline, reporters, first paragraph
    當地時間…舉行會晤。新華社記者 丁海濤 攝              photo caption (its own field)
    …
    Xi says China, Russia find right way …             English title (only if there is one)
    KAZAN, Russia, Oct. 22 (Xinhua) -- Chinese …      English dateline and lead
    … ■

Simplified-script labels (发布时间, 来源, 新华社记者…) work the same; either half may be
missing. Lines that fit no rule are body text, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from search.ingest.dates import CHINA_TZ, parse_date
from search.ingest.language import language_of

PUBLISHED = re.compile(
    r"(?:發佈時間|发布时间|發布時間|發表時間|发表时间)\s*[:：]\s*"
    r"(?P<date>\d{4}[-/年]\d{1,2}[-/月]\d{1,2}日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?)"
)
_FIELD = re.compile(r"(?P<key>來源|来源|作者|責任編輯|责任编辑|編輯|编辑)\s*[:：]\s*(?P<value>[^|｜]*)")
_BREADCRUMB = re.compile(r"^\S{1,12}(?:\s*[>›»]\s*\S{0,12})+$")
_ZH_DATELINE = re.compile(
    r"^(?P<agency>新華社|新华社|中新社|中新網|中新网|本報|本报|人民網|人民网)"
    r"(?P<place>[^\d(（，,。]{0,24}?)(?P<month>\d{1,2})月(?P<day>\d{1,2})日(?:電|电|訊|讯)"
    r"(?:\s*[(（](?:記者|记者)\s*(?P<reporters>[^)）]{1,60})[)）])?"
)
_CAPTION = re.compile(r"(?:新華社|新华社|中新社)?(?:記者|记者|發|发)\s*(?P<who>[\u4e00-\u9fff·\s、]{2,30}?)\s*(?:攝|摄)\s*$")
_EN_DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Z .'’-]+(?:,\s*[A-Z][A-Za-z .'’-]+)?),\s*(?P<date>[A-Z][a-z]{2,8}\.?\s+\d{1,2})"
    r"\s*\((?P<agency>Xinhua|Reuters|AP|AFP|CGTN|China Daily)\)\s*[-–—]+\s*"
)
_EN_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}


@dataclass
class NewsPage:
    title: dict[str, str] = field(default_factory=dict)
    body: dict[str, list[str]] = field(default_factory=lambda: {"zh": [], "en": []})
    captions: dict[str, list[str]] = field(default_factory=lambda: {"zh": [], "en": []})
    published: datetime | None = None
    source: str | None = None
    dateline: str | None = None
    meta: dict[str, object] = field(default_factory=dict)
    recognized: bool = False  # did the text look like a news page at all?


def parse_news_page(text: str) -> NewsPage:
    """Parse the lines of one page. Never raises.

    >>> page = parse_news_page("標題\\n發佈時間:2024-10-23 08:59:26 | 來源:新華網\\n新華社北京10月22日電(記者 張三)正文。")
    >>> page.title, page.source, page.meta["reporters"], page.published.isoformat()
    ({'zh': '標題'}, '新華網', ['張三'], '2024-10-23T08:59:26+08:00')
    """
    page = NewsPage()
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    for index, line in enumerate(lines):
        if index < 3 and _BREADCRUMB.match(line):
            page.recognized = True
            continue
        published = PUBLISHED.search(line)
        if published and page.published is None:
            page.recognized = True
            page.published = parse_date(published.group("date"), default_tz=CHINA_TZ)
            _publication_fields(line, page)
            continue
        lang = language_of(line)
        if lang is None:
            continue
        if lang == "zh":
            _zh_line(line, lines, index, page)
        else:
            _en_line(line, lines, index, page)
    return page


def _publication_fields(line: str, page: NewsPage) -> None:
    for match in _FIELD.finditer(line):
        key, value = match.group("key"), match.group("value").strip()
        if not value:
            continue
        if key in ("來源", "来源"):
            page.source = value
        elif key == "作者":
            page.meta["author"] = value
        else:
            page.meta["editor"] = value


def _zh_line(line: str, lines: list[str], index: int, page: NewsPage) -> None:
    if "zh" not in page.title and not page.body["zh"] and _is_title(lines, index, "zh"):
        page.title["zh"] = line
        return
    caption = _CAPTION.search(line)
    if caption and len(line) <= 200:
        page.recognized = True
        page.captions["zh"].append(line)
        names = [n for n in re.split(r"[\s、]+", caption.group("who")) if n]
        photographers = page.meta.setdefault("photographers", [])
        photographers.extend(n for n in names if n not in photographers)
        return
    dateline = _ZH_DATELINE.match(line)
    if dateline and page.dateline is None:
        page.recognized = True
        page.dateline = line[: dateline.end()].strip()
        place = dateline.group("place").strip()
        if place:
            page.meta["dateline_place"] = place
        if dateline.group("reporters"):
            page.meta["reporters"] = [n for n in re.split(r"[\s、，,]+", dateline.group("reporters")) if n]
        page.meta["dateline_date"] = _dateline_date(int(dateline.group("month")), int(dateline.group("day")), page.published)
    page.body["zh"].append(line)


def _en_line(line: str, lines: list[str], index: int, page: NewsPage) -> None:
    dateline = _EN_DATELINE.match(line)
    if dateline:
        page.recognized = True
        page.meta.setdefault("dateline_en", line[: dateline.end()].rstrip(" -–—"))
        page.meta.setdefault("dateline_place_en", dateline.group("place").strip().title())
        page.body["en"].append(line)
        return
    if "en" not in page.title and not page.body["en"] and _is_title(lines, index, "en"):
        page.title["en"] = line
        return
    page.body["en"].append(line)


def _is_title(lines: list[str], index: int, lang: str) -> bool:
    """A short line followed by text of the same language, not a sentence of the body."""
    line = lines[index]
    if len(line) > (80 if lang == "zh" else 200):
        return False
    if lang == "zh" and line.endswith(("。", "：", ":", "■")):
        return False
    if lang == "en" and (len(line.split()) < 3 or _EN_DATELINE.match(line) or line.endswith(("■",))):
        return False
    following = [language_of(other) for other in lines[index + 1 : index + 4] if not PUBLISHED.search(other)]
    return lang in following


def _dateline_date(month: int, day: int, published: datetime | None) -> str | None:
    """``10月22日電`` takes its year from the publication time (and the year before, across New Year)."""
    if published is None:
        return None
    year = published.year - 1 if month > published.month + 1 else published.year
    try:
        return datetime(year, month, day).date().isoformat()
    except ValueError:
        return None


def english_dateline_date(text: str, published: datetime | None) -> str | None:
    """``Oct. 22`` in an English dateline, with the year of the publication time."""
    match = _EN_DATELINE.match(text)
    if not match or published is None:
        return None
    month_name, day = match.group("date").replace(".", "").split()
    month = _EN_MONTHS.get(month_name[:3].lower())
    return _dateline_date(month, int(day), published) if month else None
