"""HTML pages: the search page and the article page. Both work without JavaScript.

Every state (query, filters, sort, page, script display) lives in the URL's
query string, so a page can be bookmarked and the back button works. Chinese
is shown as stored, or all simplified / all traditional (``script=hans|hant``),
converted at render time; highlights survive because conversion only touches
Han characters and the HTML around them is ASCII.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Callable
from urllib.parse import quote, urlencode, urlsplit

from flask import Blueprint, render_template, request, url_for
from markupsafe import Markup, escape

from search.analysis.convert import convert_display
from search.errors import QueryError, SearchError
from search.filters import SearchFilters
from search.render import highlight_terms, paragraphs_html
from search.query.parse import MAX_QUERY_CHARS
from search.searcher import MAX_DEPTH, MAX_SIZE
from web import params
from web.timeline import timeline_view

bp = Blueprint("views", __name__)

SCRIPTS = ("orig", "hans", "hant")
SCRIPT_LABELS = {"orig": ("原文", "as published"), "hans": ("简体", "simplified"), "hant": ("繁體", "traditional")}
#: The page's state, in the order it appears in URLs.
STATE_KEYS = ("q", "from", "to", "speaker", "lang", "sort", "translate", "collapse", "size", "page", "script")
DEFAULTS = {"lang": "both", "sort": "relevance", "script": "orig", "size": "10", "page": "1", "collapse": "true"}
FILTER_KEYS = ("from", "to", "speaker", "lang")
FILTER_LABELS = {"from": "from", "to": "to", "speaker": "speaker", "lang": "language"}
LANG_NAMES = {"zh": "中文 Chinese", "en": "English", "both": "both"}
_STATUS = {"invalid_parameter": 400, "not_found": 404}
TOP_SPEAKERS = 10  # speakers shown before "Show more"


class State:
    """The page's state from the query string, and links to its variations."""

    def __init__(self, args) -> None:
        # Asked only for what is there: a MultiDict's get raises and catches an HTTP exception per missing key.
        self.values = {key: (args.get(key) or "").strip() if key in args else "" for key in STATE_KEYS}
        # The engine reads no more of a query than this; echoing more would make every link
        # on the page (pager, facets, hits) as long as the query: a 100 KB q gave an 8.5 MB page.
        self.values["q"] = self.values["q"][:MAX_QUERY_CHARS]
        self.speaker_ids: set[str] = set()  # what the speaker filter resolved to, if the engine knows
        self._article: tuple[str, str] | None = None  # article links' path and query string
        self._makers: dict[tuple[str, ...], Callable[..., str]] = {}

    def get(self, key: str) -> str:
        return self.values.get(key, "")

    def filter_params(self) -> dict[str, str]:
        return {key: self.values[key] for key in ("from", "to", "speaker", "lang", "sort", "translate", "collapse")}

    def params(self, changes: dict[str, str | None] | None = None) -> list[tuple[str, str]]:
        values = dict(self.values)
        if changes:
            values.update({k: v or "" for k, v in changes.items()})
            if any(key not in ("page", "script") for key in changes):
                values["page"] = ""  # a new query or filter starts again at page 1
        return [(key, values[key]) for key in STATE_KEYS if values.get(key) and values[key] != DEFAULTS.get(key)]

    def url(self, changes: dict[str, str | None] | None = None) -> str:
        """The search page with some values changed (``None`` removes one)."""
        return _with_query(fixed_url("views.index"), self.params(changes))

    def url_maker(self, *keys: str) -> Callable[..., str]:
        """``url`` for many values of the same adjacent keys (one per timeline bar, speaker, page):
        ``url_maker("from", "to")(start, end) == url({"from": start, "to": end})``.

        The rest of the query string is encoded once, not once per link."""
        maker = self._makers.get(keys)
        if maker is None:
            maker = self._makers[keys] = _url_maker(fixed_url("views.index"), self.params(dict.fromkeys(keys)), keys)
        return maker

    def article_url(self, article_id: str) -> str:
        if self._article is None:  # the same for every hit and version on the page
            self._article = (article_path(""), _with_query("", self.params()))
        path, query = self._article
        return path + id_path(article_id) + query

    @property
    def active_filters(self) -> list[str]:
        return [key for key in FILTER_KEYS if self.values[key] and self.values[key] != DEFAULTS.get(key)]


def _with_query(path: str, params: list[tuple[str, str]]) -> str:
    return path + ("?" + "&".join(_encoded(key, value) for key, value in params) if params else "")


def _url_maker(path: str, others: list[tuple[str, str]], keys: tuple[str, ...]) -> Callable[..., str]:
    """Links to ``path`` with the query string ``others`` and ``keys`` set to the values given, in ``STATE_KEYS`` order."""
    first = STATE_KEYS.index(keys[0])
    assert STATE_KEYS[first : first + len(keys)] == keys, "keys must be adjacent in STATE_KEYS"
    before = [_encoded(k, v) for k, v in others if STATE_KEYS.index(k) < first]
    after = [_encoded(k, v) for k, v in others if STATE_KEYS.index(k) > first]
    # Joined once: a link is then the head, its own parameters and the tail (some 60 links a page).
    bare = path + ("?" + "&".join(before + after) if before or after else "")
    head = path + "?" + "".join(part + "&" for part in before)
    tail = "".join("&" + part for part in after)
    defaults = [DEFAULTS.get(k) for k in keys]

    if len(keys) == 1:
        key, default = keys[0], defaults[0]

        def one(value: str | None) -> str:
            return head + _encoded(key, value) + tail if value and value != default else bare

        return one

    def url(*values: str | None) -> str:
        own = [_encoded(k, v) for k, v, d in zip(keys, values, defaults) if v and v != d]
        return head + "&".join(own) + tail if own else bare

    return url


@lru_cache(maxsize=4096)
def _encoded(key: str, value: str) -> str:
    """``key=value`` as ``urlencode`` writes it."""
    return urlencode(((key, value),))


def article_path(article_id: str) -> str:
    """``url_for("views.article", article_id=article_id)``: the route's path built once, and the id
    quoted as its ``path`` converter does (werkzeug ``BaseConverter.to_url``)."""
    return fixed_url("views.article", article_id="ID").rsplit("ID", 1)[0] + id_path(article_id)


def id_path(article_id: str) -> str:
    """An article id as it goes into a link's path: ``/`` kept (the route takes it), ``?``, ``#``, ``%``
    and spaces quoted, as the route's ``path`` converter quotes it."""
    return quote(article_id, safe=_PATH_SAFE)


_PATH_SAFE = "!$&'()*+,/:;=@"


@bp.app_template_global()
def fixed_url(endpoint: str, **values: str) -> str:
    """``url_for(endpoint, **values)`` for links that are the same on every page (style sheet, search
    page, feed): built once per root path (where a proxy mounts the app), not some 15 times a page."""
    return _fixed_url(request.root_path, endpoint, tuple(sorted(values.items())))


@lru_cache(maxsize=256)
def _fixed_url(root_path: str, endpoint: str, values: tuple[tuple[str, str], ...]) -> str:
    return url_for(endpoint, **dict(values))


# --- script display ------------------------------------------------------------------------------


def display(text: str | None, script: str) -> str:
    """``text`` converted for display (``orig`` leaves it as stored)."""
    if not text or script == "orig":
        return text or ""
    return convert_display(text, script)


@lru_cache(maxsize=8192)  # names and titles come back page after page; an OpenCC pass each
def zh_lang(text: str | None, script: str = "orig") -> str:
    """The BCP 47 tag of displayed Chinese text: traditional if OpenCC's t2s would change it."""
    if script == "hans":
        return "zh-Hans"
    if script == "hant":
        return "zh-Hant"
    return "zh-Hant" if text and convert_display(text, "hans") != text else "zh-Hans"


_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def lang_of(text: str | None) -> str:
    """A language tag for text of unknown language (a query, a source): Chinese if it has Han characters."""
    return zh_lang(text) if text and _HAN.search(text) else "en"


@bp.app_template_filter("lang_of")
def _lang_of_filter(text: str | None) -> str:
    return lang_of(text)


def display_html(html: str, script: str) -> Markup:
    """Convert escaped HTML holding only ``<mark>`` tags; the markup is ASCII, so it is unchanged."""
    return Markup(display(html, script))


@dataclass
class ZhText:
    """Displayed Chinese text with its language tag."""

    text: str
    lang: str


def zh(text: str | None, script: str) -> ZhText | None:
    if not text:
        return None
    shown = display(text, script)
    return ZhText(shown, zh_lang(shown if script == "orig" else text, script))


def zh_html(html: str, script: str) -> ZhText:
    shown = display_html(html, script)
    return ZhText(shown, zh_lang(str(shown), script))


def zh_html_many(htmls: list[str], script: str) -> list[ZhText]:
    """``[zh_html(h, script) for h in htmls]`` with one OpenCC pass over them all (a page's snippets, an
    article's paragraphs), not one each: OpenCC never matches a phrase across a line break."""
    if len(htmls) < 2 or any("\n" in h for h in htmls):
        return [zh_html(h, script) for h in htmls]
    joined = "\n".join(htmls)
    if script != "orig":
        shown = convert_display(joined, script).split("\n")
        lang = zh_lang(None, script)
        return [ZhText(Markup(text), lang) for text in shown] if len(shown) == len(htmls) else [zh_html(h, script) for h in htmls]
    simplified = convert_display(joined, "hans")  # shown as stored: traditional if t2s changes it
    if simplified == joined:
        return [ZhText(Markup(h), "zh-Hans") for h in htmls]
    converted = simplified.split("\n")
    if len(converted) != len(htmls):
        return [zh_html(h, script) for h in htmls]
    return [ZhText(Markup(h), "zh-Hans" if new == h else "zh-Hant") for h, new in zip(htmls, converted)]


def format_date(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) link, else ``None`` (never ``javascript:`` and the like)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


# --- view models -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpeakerNames:
    """A speaker as every chip shows it, whatever the page: its names in the displayed script,
    and their markup (escaped)."""

    value: str  # what the speaker filter is set to
    label: str  # the chip's text: Chinese, then English, each in its language; else the filter value
    names: str  # ``data-names``: every form of the names, lowercase, that the facet's filter box matches
    value_html: str  # ``data-speaker``


@lru_cache(maxsize=8192)  # the same speakers come back page after page, some 70 chips a page
def speaker_names(zh_name: str | None, en: str | None, sid: str, script: str) -> SpeakerNames:
    value = zh_name or en or sid
    shown = zh(zh_name, script)
    zh_html = f'<span lang="{shown.lang}">{escape(shown.text)}</span>' if shown is not None else ""
    en_html = f'<span lang="en">{escape(en)}</span>' if en else ""
    label = zh_html + (" " if shown is not None and en else "") + en_html if shown is not None or en else escape(value)
    names = _names_key(shown.text if shown else "", en, value)
    return SpeakerNames(value, str(label), str(escape(names)), str(escape(value)))


@dataclass
class SpeakerView:
    names: SpeakerNames
    count: int | None = None
    url: str = ""
    active: bool = False

    @property
    def value(self) -> str:
        return self.names.value

    @property
    def label(self) -> Markup:
        return Markup(self.names.label)

    @property
    def chip(self) -> str:
        """The speaker as a link on a hit (written here: a page has some 30)."""
        return f'<a href="{escape(self.url)}" class="speaker" data-speaker="{self.names.value_html}">{self.names.label}</a>'

    @property
    def facet_item(self) -> str:
        """The speaker facet's list item (some 35 a page: cheaper joined here than drawn by Jinja)."""
        current = ' aria-current="true"' if self.active else ""
        link = f'<a href="{escape(self.url)}"{current} data-speaker="{self.names.value_html}">{self.names.label} <span class="count">{escape(self.count)}</span></a>'
        return f'<li data-names="{self.names.names}">{link}</li>'


@lru_cache(maxsize=8192)
def _names_key(zh: str, en: str | None, value: str) -> str:
    forms = {zh, *_both_scripts(zh), en or "", value}
    return " ".join(sorted(f.lower() for f in forms if f))


@lru_cache(maxsize=8192)
def _both_scripts(name: str) -> tuple[str, str]:
    return display(name, "hans"), display(name, "hant")


@dataclass
class VersionView:
    """An article listed under another: a version of it, or related coverage."""

    id: str
    url: str
    title_zh: ZhText | None
    title_en: str | None
    date: str
    date_iso: str | None
    source: str | None


@dataclass
class HitView(VersionView):
    speakers: list[SpeakerView] = field(default_factory=list)
    snippets_zh: list[ZhText] = field(default_factory=list)
    snippets_en: list[Markup] = field(default_factory=list)
    duplicates: list[VersionView] = field(default_factory=list)  # its other versions (collapsed results)


# The result list and version lists are joined here, not drawn by Jinja: a page's ten hits with their
# speakers, snippets and versions were some 320 of its 640 template outputs, each escaped and passed
# up through the template's blocks; this writes exactly what the templates wrote, whitespace included.


def hits_html(hits: list[HitView]) -> Markup:
    """The items of the result list (``<ol class="hits">``)."""
    return Markup("".join(_hit_html(hit) for hit in hits))


def _hit_html(hit: HitView) -> str:
    title = _titles_html(hit, "") or f"<span>{escape(hit.id)}</span>"
    meta = _date_source_html(hit, "")
    if hit.speakers:
        links = ", ".join(sp.chip for sp in hit.speakers)
        meta += f'<span class="speakers">Speakers:\n          {links}</span>'
    zh_snippets = "".join(f'<p class="snippet snippet-zh" lang="{s.lang}">{s.text}</p>' for s in hit.snippets_zh)
    en_snippets = "".join(f'<p class="snippet snippet-en" lang="en">{s}</p>' for s in hit.snippets_en)
    versions = ""
    if hit.duplicates:
        count = len(hit.duplicates)
        summary = f"{count} similar {'article' if count == 1 else 'articles'}"
        versions = f'\n      <details class="duplicates">\n        <summary>{summary}</summary>\n        {version_list_html(hit.duplicates)}\n      </details>\n      '
    return (
        f'\n    <li class="hit" data-id="{escape(hit.id)}">\n      <h2 class="hit-title"><a href="{escape(hit.url)}">{title}</a></h2>'
        f'\n      <p class="meta">{meta}</p>\n      {zh_snippets}\n      {en_snippets}\n      {versions}\n    </li>\n  '
    )


def version_list_html(items: list[VersionView]) -> Markup:
    """A list of articles (a hit's other versions, an article's versions and related coverage)."""
    rows = "".join(f'<li><a href="{escape(v.url)}">{_titles_html(v, " ") or f"<span>{escape(v.id)}</span>"}</a>{_date_source_html(v, " ")}</li>\n  ' for v in items)
    return Markup(f'<ul class="version-list">\n  {rows}\n</ul>')


def _titles_html(v: VersionView, between: str) -> str:
    """The Chinese and English titles, each in its language ("" if it has neither)."""
    zh_title = f'<span class="title-zh" lang="{v.title_zh.lang}">{escape(v.title_zh.text)}</span>' if v.title_zh else ""
    en_title = f'<span class="title-en" lang="en">{escape(v.title_en)}</span>' if v.title_en else ""
    return zh_title + (between if zh_title and en_title else "") + en_title


def _date_source_html(v: VersionView, before: str) -> str:
    date = f'{before}<time datetime="{escape(v.date_iso)}">{escape(v.date)}</time>' if v.date else ""
    source = f'{before}<span class="source" lang="{lang_of(v.source)}">{escape(v.source)}</span>' if v.source else ""
    return date + source


def version_view(item: dict, state: State, script: str) -> VersionView:
    title = item.get("title") or {}
    return VersionView(item["id"], state.article_url(item["id"]), zh(title.get("zh"), script), title.get("en"), format_date(item.get("date")), item.get("date"), item.get("source"))


@dataclass
class Suggestion:
    label: str  # English words
    url: str
    value: str = ""  # the query or filter value shown after the words, in its own language


@dataclass
class Pager:
    page: int
    last: int
    prev_url: str | None
    next_url: str | None
    links: list[tuple[int | None, str | None]] = field(default_factory=list)  # (page, url); None = gap

    @property
    def items(self) -> Markup:
        """The list items: a link a page shown, and the gaps (joined here: some five template outputs each in a loop)."""
        return Markup("".join(f"\n      {self._item(n, url)}\n    " for n, url in self.links))

    def _item(self, n: int | None, url: str | None) -> str:
        if n is None:
            return '<li class="gap" aria-hidden="true">…</li>\n      '
        if n == self.page:
            return f'<li><a href="{escape(url)}" aria-current="page">{n}</a></li>\n      '
        return f'<li><a href="{escape(url)}" aria-label="Page {n}">{n}</a></li>'


def speaker_view(sp: dict, state: State, script: str, count: int | None = None) -> SpeakerView:
    names = sp.get("names") or {}
    sid = sp.get("id", "")
    view = speaker_names(names.get("zh"), names.get("en"), sid, script)
    current = state.get("speaker")
    active = bool(current) and (
        sid in state.speaker_ids or current in {view.value, sid, names.get("en"), *_both_scripts(names.get("zh"))}
    )
    return SpeakerView(view, count, state.url_maker("speaker")(None if active else view.value), active)


def hit_views(hits: list, state: State, script: str) -> list[HitView]:
    """The page's hits, their Chinese snippets converted together."""
    snippets = iter(zh_html_many([s for hit in hits for s in hit.snippets.get("zh", [])], script))
    return [hit_view(hit, state, script, [next(snippets) for _ in hit.snippets.get("zh", [])]) for hit in hits]


def hit_view(hit, state: State, script: str, snippets_zh: list[ZhText]) -> HitView:
    return HitView(
        id=hit.id,
        url=state.article_url(hit.id),
        title_zh=zh(hit.title.get("zh"), script),
        title_en=hit.title.get("en"),
        date=format_date(hit.date),
        date_iso=hit.date,
        source=hit.source,
        speakers=[speaker_view(sp, state, script) for sp in hit.speakers],
        snippets_zh=snippets_zh,
        snippets_en=[Markup(s) for s in hit.snippets.get("en", [])],
        duplicates=[version_view(item, state, script) for item in hit.duplicates or ()],
    )


def speaker_facet(speakers: list[SpeakerView]) -> dict:
    """The speaker facet's list items: the first ``TOP_SPEAKERS``, and the rest behind "Show more"
    (joined here: a Jinja loop over some 35 items cost more than the items)."""
    return {
        "top": Markup("".join(sp.facet_item for sp in speakers[:TOP_SPEAKERS])),
        "more": Markup("".join(sp.facet_item for sp in speakers[TOP_SPEAKERS:])),
    }


def year_facets(result, state: State) -> Markup:
    """The year facet's list items ("" when no match is dated)."""
    out = []
    dates_url = state.url_maker("from", "to")
    for item in result.facets.get("years", []):
        year = item["year"]
        if not 1000 <= year <= 9999:  # an undated article's placeholder, not a year
            continue
        start, end = f"{year:04d}-01-01", f"{year:04d}-12-31"
        active = state.get("from") == start and state.get("to") == end
        url = dates_url(None, None) if active else dates_url(start, end)
        current = ' aria-current="true"' if active else ""
        out.append(f'<li><a href="{escape(url)}"{current} data-year="{year}">{year} <span class="count">{escape(item["count"])}</span></a></li>')
    return Markup("".join(out))


def pager(result, state: State) -> Pager | None:
    listed = result.total + result.total_partial  # complete matches, then partial ones
    shown_total = result.groups if result.collapse else listed  # collapsed pages hold stories
    if shown_total <= result.size and result.page == 1:
        return None
    last = max(1, min(math.ceil(shown_total / result.size), MAX_DEPTH // result.size))
    page = result.page
    shown = sorted({1, last, *range(max(1, page - 2), min(last, page + 2) + 1)})
    links: list[tuple[int | None, str | None]] = []
    page_url = state.url_maker("page")
    for n in shown:
        if links and links[-1][0] is not None and n - links[-1][0] > 1:
            links.append((None, None))
        links.append((n, page_url(str(n))))
    return Pager(
        page=page,
        last=last,
        prev_url=page_url(str(page - 1)) if page > 1 else None,
        next_url=page_url(str(page + 1)) if page < last else None,
        links=links,
    )


def suggestions(state: State) -> list[Suggestion]:
    """What to try when nothing matched: the query in the other script, each filter removed."""
    q = state.get("q")
    out: list[Suggestion] = []
    for target, label in (("hant", "in traditional characters:"), ("hans", "in simplified characters:")):
        other = convert_display(q, target)
        if other != q and all(s.value != other for s in out):
            out.append(Suggestion(label, state.url({"q": other}), other))
    active = state.active_filters
    for key in active:
        value = state.get(key)
        shown = LANG_NAMES.get(value, value) if key == "lang" else value
        out.append(Suggestion(f"without the {FILTER_LABELS[key]} filter:", state.url({key: None}), shown))
    if len(active) > 1:
        out.append(Suggestion("without any filter", state.url({key: None for key in active})))
    return out


def follow_links(state: State, total: int) -> dict:
    """The Atom feed and the exports of the search on the page (same query and filters)."""
    from web.export import EXPORT_MAX

    keys = ("q", "from", "to", "speaker", "lang", "translate")
    params = [(k, state.get(k)) for k in keys if state.get(k) and state.get(k) != DEFAULTS.get(k)]
    sort = [("sort", state.get("sort"))] if state.get("sort") == "date" else []
    return {
        "feed": _with_query(fixed_url("feeds.feed"), params),
        "csv": _with_query(fixed_url("export.export"), params + sort),
        "jsonl": _with_query(fixed_url("export.export"), params + sort + [("format", "jsonl")]),
        "count": min(total, EXPORT_MAX),
        "capped": total > EXPORT_MAX,
        "cap": EXPORT_MAX,
    }


def count_line(result) -> str:
    """How many articles hold all the words, and how many more some of them:
    "214 articles contain all words · 1,248 more contain some"."""
    total, partial = result.total, result.total_partial
    if not partial and not result.interpreted.dropped:
        return f"{total:,} {'result' if total == 1 else 'results'}"
    words = "the other words" if result.interpreted.dropped else "all words"
    if total:
        line = f"{total:,} {'article contains' if total == 1 else 'articles contain'} {words}"
        return line + (f" · {partial:,} more contain some" if partial else "")
    return f"No article contains all words · {partial:,} contain some"


def interpretation_view(interpreted, script: str) -> dict:
    terms = interpreted.terms
    pairs: list[tuple[str, str]] = []
    for item in getattr(interpreted, "translations", None) or []:
        # {"term": "BRICS", "converted": "brics", "lang": "en", "translations": ["金砖国家", "金砖"], "excluded"?: true}
        targets = item.get("translations") or []
        source = ("NOT " if item.get("excluded") else "") + str(item.get("term") or item.get("converted") or "")
        pairs.append((source, ", ".join(display(str(t), script) for t in targets)))
    return {
        "normalized": zh(interpreted.normalized, script),
        "zh": [display(t, script) for t in terms.get("zh", [])],
        # English as typed (climate change), not the stems the index matches (climat, chang).
        "en": list((getattr(interpreted, "words", None) or {}).get("en") or terms.get("en", [])),
        "other": list(terms.get("other", [])),
        "phrases": [" ".join(display(w, script) for w in p) for p in interpreted.phrases],
        "script": script,
        "excluded": [display(t, script) for t in interpreted.excluded],
        "fields": list(interpreted.fields),
        "warnings": list(interpreted.warnings),
        "translations": pairs,
        "dropped": list(getattr(interpreted, "dropped", None) or []),
        "sources": [display(t, script) for t in getattr(interpreted, "sources", None) or []],
        "corrections": [(c["typed"], c["corrected"]) for c in getattr(interpreted, "corrections", None) or []],
        "corrected_query": getattr(interpreted, "corrected_query", None),
        "verbatim_query": getattr(interpreted, "verbatim_query", None),
        "pinyin": [(p["typed"], ", ".join(display(w, script) for w in p["words"])) for p in getattr(interpreted, "pinyin", None) or []],
        "zh_lang": "zh-Hant" if script == "hant" else "zh-Hans",
    }


def _page_title(*parts: str) -> str:
    return " – ".join([p for p in parts if p] + ["新闻搜索 News search"])


def script_links(script: str, script_url: Callable[[str], str]) -> Markup:
    """The script switch's list items (原文, 简体, 繁體), each a link to ``script_url(value)``."""
    return Markup("".join(_script_item(value, script_url(value), value == script) for value in SCRIPTS))


def _script_item(value: str, url: str, current: bool) -> str:
    zh_label, en_label = SCRIPT_LABELS[value]
    lang = "zh-Hant" if value == "hant" else "zh-Hans"
    mark = ' aria-current="true"' if current else ""
    return f'\n      <li><a href="{escape(url)}" data-script="{value}"{mark}><span lang="{lang}">{zh_label}</span> <span class="en">{en_label}</span></a></li>\n    '


# --- pages ------------------------------------------------------------------------------------------


@bp.get("/")
def index():
    from web import engine

    state = State(request.args)
    script = state.get("script") or "orig"
    q = state.get("q")
    result = None
    error: str | None = None
    error_param: str | None = None
    status = 200
    articles = None
    try:
        if script not in SCRIPTS:
            script = "orig"
            raise QueryError(f"script must be orig, hans or hant, got {state.get('script')[:20]!r}", param="script")
        page, size = _checked_page_params(request.args)
        filters = SearchFilters.from_params(state.filter_params())
        if filters.speaker:
            state.speaker_ids = set(engine().speaker_ids(filters.speaker))
        if q:
            # The whole query, so the engine's warning says it was cut; the page echoes the part read.
            result = engine().search((request.args.get("q") or "").strip(), page=page, size=size, filters=filters)
        else:
            articles = engine().count()
    except SearchError as exc:
        error, error_param = exc.message, exc.param
        status = _STATUS.get(exc.code, 503 if exc.code.startswith("index") else 400)
    context = {
        "state": state,
        "q": q,
        "script": script,
        "scripts": script_links(script, state.url_maker("script")),
        "result": result,
        "error": error,
        "error_param": error_param,
        "articles": articles,
        "lang_names": LANG_NAMES,
        "title": _page_title(
            error and "Error",
            q,
            f"第 {result.page} 页 page {result.page}" if result is not None and result.page > 1 else "",
        ),
    }
    if result is not None:
        if result.page == 1 and not result.hits and result.total + result.total_partial:
            # Nothing on the first page means nothing matched (the engine may count matches its filters exclude).
            result = dataclasses.replace(result, total=0, total_partial=0)
            context["result"] = result
        # An article opened from a corrected search marks the corrected words (Putin, not Pution).
        hit_state = state
        if result.interpreted.corrected_query:
            hit_state = State({**state.values, "q": result.interpreted.corrected_query})
            hit_state.speaker_ids = state.speaker_ids
        speakers = [speaker_view(sp, state, script, sp.get("count")) for sp in result.facets.get("speakers", [])]
        context.update(
            hits=hits_html(hit_views(result.hits, hit_state, script)),
            years=year_facets(result, state),
            speakers=speakers,
            speaker_facet=speaker_facet(speakers),
            pager=pager(result, state),
            interpreted=interpretation_view(result.interpreted, script),
            suggestions=suggestions(state) if result.total + result.total_partial == 0 else [],
            count_line=count_line(result),
            timeline=timeline_view(result.facets, state),
            top_speakers=TOP_SPEAKERS,
            follow=follow_links(state, result.total + result.total_partial) if result.total else None,
            collapse_url=state.url({"collapse": "true" if state.get("collapse") == "false" else "false"}),
            first=(result.page - 1) * result.size + 1,
        )
    return render_template("search.html", **context), status


def _checked_page_params(args) -> tuple[int, int]:
    """Refuse repeated state parameters and values outside the documented ones; ``(page, size)``.

    Blank values are treated as absent: the page's form submits its empty fields."""
    for key in STATE_KEYS:
        params.single(args, key)
    params.choice(args, "lang", ("zh", "en", "both"), blank_is_missing=True)
    params.choice(args, "sort", ("relevance", "date"), blank_is_missing=True)
    page = params.integer(args, "page", default=1, maximum=MAX_DEPTH, blank_is_missing=True)
    size = params.integer(args, "size", default=10, maximum=MAX_SIZE, blank_is_missing=True)
    return page, size


@bp.get("/articles/<path:article_id>")
def article(article_id: str):
    from web import engine
    from web.api import article_json

    _checked_page_params(request.args)
    state = State(request.args)
    script = state.get("script") or "orig"
    if script not in SCRIPTS:
        raise QueryError(f"script must be orig, hans or hant, got {state.get('script')[:20]!r}", param="script")
    data = article_json(engine().article(article_id))
    if state.get("speaker"):
        state.speaker_ids = set(engine().speaker_ids(state.get("speaker")))
    translate = SearchFilters.from_params({"translate": state.get("translate")}).translate
    terms, phrases = highlight_terms(state.get("q"), translate=translate)

    def zh_paragraphs(text: str | None) -> list[ZhText]:
        return zh_html_many(paragraphs_html(text, terms, phrases), script)

    def en_paragraphs(text: str | None) -> list[Markup]:
        return [Markup(p) for p in paragraphs_html(text, terms, phrases)]

    title_zh = zh(data["title"]["zh"], script)
    title_zh_html = zh_paragraphs(data["title"]["zh"])
    view = {
        "id": data["id"],
        "title_zh": title_zh_html[0] if title_zh_html else None,
        "title_en": (en_paragraphs(data["title"]["en"]) or [None])[0],
        "body_zh": zh_paragraphs(data["body"]["zh"]),
        "body_en": en_paragraphs(data["body"]["en"]),
        "captions_zh": zh_paragraphs(data["captions"]["zh"]),
        "captions_en": en_paragraphs(data["captions"]["en"]),
        "date": format_date(data["date"]),
        "date_iso": data["date"],
        "source": data["source"],
        "url": safe_url(data["url"]),
        "raw_url": data["url"],
        "dateline": zh(data["dateline"], script),
        "speakers": [speaker_view(sp, state, script) for sp in data["speakers"]],
    }
    similar = engine().similar(article_id)
    view["versions"] = version_list_html([version_view(item, state, script) for item in similar["versions"]]) if similar["versions"] else None
    view["related"] = version_list_html([version_view(item, state, script) for item in similar["related"]]) if similar["related"] else None
    back = state.url() if state.get("q") else None
    kept = [(key, state.get(key)) for key in ("from", "to", "speaker", "lang", "sort", "translate", "size") if state.get(key) and state.get(key) != DEFAULTS.get(key)]
    labels = {"from": "from", "to": "to", "speaker": "speaker", "lang": "language", "sort": "order", "translate": "translation"}
    shown = {"date": "newest first", **LANG_NAMES}
    kept_shown = [(labels[key], shown.get(value, value) if key in ("lang", "sort") else value) for key, value in kept if key in labels]
    title = (title_zh.text if title_zh else None) or data["title"]["en"] or data["id"]
    return render_template(
        "article.html",
        state=state,
        q=state.get("q"),
        script=script,
        scripts=script_links(script, lambda value: _with_query(url_for("views.article", article_id=article_id), state.params({"script": value}))),
        article=view,
        back=back,
        kept=kept,
        kept_shown=kept_shown,
        unfiltered=state.url({key: None for key, _ in kept}) if kept and state.get("q") else url_for("views.index"),
        title=_page_title(title),
    )
