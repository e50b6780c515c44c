"""The HTML pages through Flask's test client: content, script display, filters, links, errors, safety."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from search.analysis.convert import convert_display
from search.highlight import Snippet, to_html
from tests.webdata import SEED_ID, SEED_TITLE, SEED_TITLE_HANS, build_web_index, speaker_filter_works, web_app
from web import create_app
from web.views import safe_url, zh_html, zh_html_many, zh_lang


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return build_web_index(tmp_path_factory.mktemp("web-views"))


@pytest.fixture(scope="module")
def app(index_dir):
    with web_app(index_dir) as app:
        yield app


class Page(HTMLParser):
    """A parsed page: elements with attributes and text, for assertions that do not depend on layout."""

    VOID = {"meta", "link", "input", "br", "img", "hr", "source"}

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.html = html
        self.elements: list[dict] = []
        self._open: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "text": "", "html_start": self.getpos()}
        self.elements.append(el)
        if tag not in self.VOID:
            self._open.append(el)

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i]["tag"] == tag:
                del self._open[i:]
                break

    def handle_data(self, data):
        for el in self._open:
            el["text"] += data

    def find(self, tag=None, **attrs) -> list[dict]:
        out = []
        for el in self.elements:
            if tag and el["tag"] != tag:
                continue
            if all((el["attrs"].get(k.rstrip("_").replace("_", "-")) or "").split() and v in (el["attrs"].get(k.rstrip("_").replace("_", "-")) or "").split() if k == "class_" else el["attrs"].get(k.replace("_", "-")) == v for k, v in attrs.items()):
                out.append(el)
        return out

    def one(self, tag=None, **attrs) -> dict:
        found = self.find(tag, **attrs)
        assert len(found) == 1, (tag, attrs, len(found))
        return found[0]

    def text(self, tag=None, **attrs) -> list[str]:
        return [" ".join(el["text"].split()) for el in self.find(tag, **attrs)]


def get(client, path="/", status=200, **params) -> Page:
    response = client.get(path, query_string=params)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return Page(response.get_data(as_text=True))


def query_of(href: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


# --- the search page ---------------------------------------------------------------------------------


def test_results_show_titles_date_source_speakers_and_snippets(client):
    page = get(client, q="習近平")
    hit = next(el for el in page.find("li", class_="hit") if el["attrs"]["data-id"] == SEED_ID)
    text = " ".join(hit["text"].split())
    assert SEED_TITLE in text
    assert "Xi says China, Russia" in text
    assert "2024-10-23 08:59" in text and "新華網" in text
    assert "<mark>習近平</mark>" in page.html
    assert page.one("time", datetime="2024-10-23T08:59:26+08:00")
    title_zh = page.find("span", class_="title-zh")[0]
    assert title_zh["attrs"]["lang"] == "zh-Hant"
    assert page.find("p", class_="snippet-en") and all(el["attrs"]["lang"] == "en" for el in page.find("p", class_="snippet-en"))


def test_summary_shows_total_time_and_interpretation(client):
    page = get(client, q='習近平 Putin "一帶一路" -cooperating')
    summary = page.text("p", id="summary")[0]
    assert re.search(r"\d+ (results?|articles? contains? (all|the other) words) · .*\d+\.\d ms", summary)
    interpreted = " ".join(page.text("dl", class_="interpreted"))
    assert "习近平" in interpreted  # the indexed (simplified) form
    assert "English wordsPutin" in interpreted  # as typed, not the stem "putin"
    assert "一带 一路" in interpreted  # the phrase, as words
    assert "cooper" in interpreted  # excluded, stemmed
    assert "Read as" in interpreted


def test_a_pasted_titles_site_name_is_shown_as_not_required(client):
    page = get(client, q=SEED_TITLE + " - 新華網")
    assert page.find("li", class_="hit")[0]["attrs"]["data-id"] == SEED_ID
    sources = " ".join(page.text("dd", class_="sources"))
    assert "need not contain" in sources and "新華網" in sources
    assert "No article contains all" not in " ".join(page.text("p", id="summary"))


def test_result_speakers_link_to_the_speaker_filter(client):
    page = get(client, q="通电话")
    links = [el for el in page.find("a", class_="speaker") if el["attrs"]["data-speaker"] == "普京"]
    assert links
    assert query_of(links[0]["attrs"]["href"]) == {"q": "通电话", "speaker": "普京"}
    assert "Vladimir Putin" in links[0]["text"]


def test_facets_are_links_that_set_the_filter(client):
    page = get(client, q="普京", size="5")
    years = {el["attrs"]["data-year"]: el for el in page.find("a") if "data-year" in el["attrs"]}
    assert "2024" in years and "2022" in years
    assert query_of(years["2022"]["attrs"]["href"]) == {"q": "普京", "size": "5", "from": "2022-01-01", "to": "2022-12-31"}
    assert "2" in years["2022"]["text"]  # the count beside the year
    speakers = [el for el in page.find("ul", class_="facet-speakers")]
    assert speakers and "Vladimir Putin" in speakers[0]["text"]
    link = next(el for el in page.find("a") if el["attrs"].get("data-speaker") == "普京" and el in _facet_links(page))
    assert query_of(link["attrs"]["href"]) == {"q": "普京", "size": "5", "speaker": "普京"}


def _facet_links(page: Page) -> list[dict]:
    html = page.html
    start, end = html.index('class="facet facet-speakers"'), html.index("</ul>", html.index('class="facet facet-speakers"'))
    return [el for el in page.find("a") if "data-speaker" in el["attrs"] and el["attrs"]["href"].replace("&", "&amp;") in html[start:end]]


def test_active_year_facet_is_marked_and_removes_the_filter(client):
    page = get(client, q="普京", **{"from": "2022-01-01", "to": "2022-12-31"})
    year = next(el for el in page.find("a") if el["attrs"].get("data-year") == "2022")
    assert year["attrs"].get("aria-current") == "true"
    assert query_of(year["attrs"]["href"]) == {"q": "普京"}
    assert page.one("input", id="from")["attrs"]["value"] == "2022-01-01"
    assert page.one("input", id="to")["attrs"]["value"] == "2022-12-31"
    dates = [el["attrs"]["datetime"][:10] for el in page.find("time")]
    assert dates and all(d.startswith("2022") for d in dates)


def test_speaker_filter_is_kept_in_the_form_and_shown_as_removable(client, index_dir):
    page = get(client, q="合作", speaker="普京", lang="zh", sort="date")
    assert page.one("input", id="speaker")["attrs"]["value"] == "普京"
    assert "checked" in page.one("input", name="lang", value="zh")["attrs"]
    assert "checked" in page.one("input", name="sort", value="date")["attrs"]
    assert "checked" not in page.one("input", name="lang", value="both")["attrs"]
    remove = {el["attrs"]["data-remove"]: query_of(el["attrs"]["href"]) for el in page.find("a") if "data-remove" in el["attrs"]}
    assert remove["speaker"] == {"q": "合作", "lang": "zh", "sort": "date"}
    assert remove["lang"] == {"q": "合作", "speaker": "普京", "sort": "date"}
    if speaker_filter_works(index_dir):
        hits = page.find("li", class_="hit")
        assert hits and all("Vladimir Putin" in el["text"] for el in hits)


def test_form_is_a_get_form_with_every_filter(client):
    page = get(client)
    form = page.one("form", id="search-form")
    assert form["attrs"]["method"] == "get" and form["attrs"]["action"] == "/"
    names = {el["attrs"].get("name") for el in page.find("input")}
    assert {"q", "from", "to", "speaker", "lang", "sort"} <= names
    assert page.one("input", id="from")["attrs"]["type"] == "date"
    assert page.one("input", id="speaker")["attrs"]["list"] == "speaker-options"
    assert page.one("datalist", id="speaker-options")


def test_landing_page_shows_the_article_count(client):
    page = get(client)
    assert "30 articles indexed" in " ".join(page.text("p", class_="article-count"))
    assert page.one("title")["text"] == "新闻搜索 News search"


# --- pagination --------------------------------------------------------------------------------------


def test_pagination_keeps_the_state_and_marks_the_current_page(client):
    page = get(client, q="普京", size="5", page="2", script="hans", lang="zh")
    assert page.one("ol", class_="hits")["attrs"]["start"] == "6"
    assert len(page.find("li", class_="hit")) == 5
    prev, nxt = page.one("a", rel="prev"), page.one("a", rel="next")
    assert query_of(prev["attrs"]["href"]) == {"q": "普京", "size": "5", "script": "hans", "lang": "zh"}
    assert query_of(nxt["attrs"]["href"]) == {"q": "普京", "size": "5", "page": "3", "script": "hans", "lang": "zh"}
    current = page.one("a", aria_current="page")
    assert current["text"] == "2"
    assert "第 2 页" in page.one("title")["text"] and "普京" in page.one("title")["text"]


def test_last_page_has_no_next_link(client):
    total = client.get("/api/search", query_string={"q": "普京"}).get_json()["total"]
    last = -(-total // 5)
    page = get(client, q="普京", size="5", page=str(last))
    assert not page.find("a", rel="next") and page.find("a", rel="prev")


def test_page_past_the_end_offers_the_first_page(client):
    page = get(client, q="普京", size="5", page="50")
    assert "past the last result" in page.html


# --- script display ----------------------------------------------------------------------------------


def test_script_hans_shows_traditional_articles_in_simplified_with_marks(client):
    page = get(client, q="習近平", script="hans")
    titles = {el["text"]: el["attrs"]["lang"] for el in page.find("span", class_="title-zh")}
    assert titles[SEED_TITLE_HANS] == "zh-Hans" and SEED_TITLE not in titles
    assert set(titles.values()) == {"zh-Hans"}
    assert "<mark>习近平</mark>" in page.html and "<mark>習近平</mark>" not in page.html
    assert all(el["attrs"]["lang"] == "zh-Hans" for el in page.find("p", class_="snippet-zh"))
    assert page.one("input", id="q")["attrs"]["value"] == "習近平"  # the query stays as typed
    assert page.one("input", name="script")["attrs"]["value"] == "hans"  # a new search keeps the display


def test_script_hant_shows_simplified_articles_in_traditional(client):
    page = get(client, q="通电话", script="hant")
    titles = page.text("span", class_="title-zh")
    assert "習近平同普京通電話" in titles
    assert all(el["attrs"]["lang"] == "zh-Hant" for el in page.find("span", class_="title-zh"))
    assert "<mark>通電話</mark>" in page.html


def test_script_orig_shows_each_article_as_published_with_its_language_tag(client):
    page = get(client, q="普京", size="100")
    langs = {el["text"]: el["attrs"]["lang"] for el in page.find("span", class_="title-zh")}
    assert langs[SEED_TITLE] == "zh-Hant"
    assert langs["普京在莫斯科发表讲话"] == "zh-Hans"
    assert langs["普京談合作前景 第1篇"] == "zh-Hant" and langs["普京谈合作前景 第2篇"] == "zh-Hans"


def test_script_toggle_links_keep_the_page(client):
    page = get(client, q="普京", size="5", page="2")
    links = {el["attrs"]["data-script"]: el for el in page.find("a") if "data-script" in el["attrs"]}
    assert set(links) == {"orig", "hans", "hant"}
    assert links["orig"]["attrs"].get("aria-current") == "true"
    assert query_of(links["hant"]["attrs"]["href"]) == {"q": "普京", "size": "5", "page": "2", "script": "hant"}


@pytest.mark.parametrize(
    "text",
    ["國家主席<mark>習近平</mark>在喀山", "<mark>习近平</mark>同<mark>普京</mark>", "a &lt;b&gt; &amp; &quot;發展&quot; <mark>關係</mark>", "歷史<mark>發</mark>展", "<mark>乾</mark>隆 &#x27;x&#x27;", "<mark>Xi</mark> said 發展"],
)
@pytest.mark.parametrize("script", ["hans", "hant"])
def test_converting_escaped_html_keeps_markup_and_converts_the_text(text, script):
    converted = convert_display(text, script)
    assert re.findall(r"<[^>]*>|&[#\w]+;", converted) == re.findall(r"<[^>]*>|&[#\w]+;", text)
    plain = re.sub(r"<[^>]*>", "", text)
    assert len(re.sub(r"<[^>]*>", "", converted)) == len(plain)
    # The characters between the tags are what converting each piece would give, up to phrase context.
    for piece_before, piece_after in zip(re.split(r"<[^>]*>", text), re.split(r"<[^>]*>", converted)):
        assert convert_display(piece_after, "hans") == convert_display(convert_display(piece_before, script), "hans")


def test_converting_a_real_snippet_keeps_its_marks():
    html = to_html(Snippet("國家主席習近平<同>俄羅斯總統普京", [(4, 7), (15, 17)]))
    assert convert_display(html, "hans") == "国家主席<mark>习近平</mark>&lt;同&gt;俄罗斯总统<mark>普京</mark>"


@pytest.mark.parametrize("text, lang", [("習近平同俄羅斯總統", "zh-Hant"), ("习近平同俄罗斯总统", "zh-Hans"), ("中国", "zh-Hans"), ("中國", "zh-Hant"), ("合作", "zh-Hans")])
def test_language_tag_detection(text, lang):
    assert zh_lang(text) == lang


@pytest.mark.parametrize("script", ["orig", "hans", "hant"])
def test_many_texts_converted_at_once_as_each_alone(script):
    # 乾隆 is a phrase OpenCC keeps, 乾 alone becomes 干: no phrase may join two texts.
    texts = ["皇帝乾", "隆", "習近平<mark>會見</mark>", "习近平会见", "", "乾隆皇帝", "Putin &amp; 普京", "中國"]
    for group in (texts, texts[1:2], texts[3:5], [t for t in texts if "乾" not in t]):
        assert zh_html_many(group, script) == [zh_html(t, script) for t in group]
    assert zh_html_many(["a\nb", "國"], script) == [zh_html("a\nb", script), zh_html("國", script)]


# --- empty results -----------------------------------------------------------------------------------


def test_empty_result_suggests_the_other_script_and_removing_each_filter(client):
    page = get(client, q="喀山习近", speaker="Nobody", lang="en", **{"from": "2025-01-01"})
    assert "No articles match" in page.html
    assert page.text("span", class_="total") == ["0 results"]
    assert not page.find("li", class_="hit") and not page.find("nav", class_="pages")
    by_text = {" ".join(el["text"].split()): query_of(el["attrs"]["href"]) for el in page.find("a", class_="suggestion")}
    assert by_text["in traditional characters: 喀山習近"] == {"q": "喀山習近", "speaker": "Nobody", "lang": "en", "from": "2025-01-01"}
    assert not [t for t in by_text if t.startswith("in simplified")]  # the query is simplified already
    assert by_text["without the speaker filter: Nobody"] == {"q": "喀山习近", "lang": "en", "from": "2025-01-01"}
    assert by_text["without the language filter: English"] == {"q": "喀山习近", "speaker": "Nobody", "from": "2025-01-01"}
    assert by_text["without the from filter: 2025-01-01"] == {"q": "喀山习近", "speaker": "Nobody", "lang": "en"}
    assert by_text["without any filter"] == {"q": "喀山习近"}
    other = next(el for el in page.find("span") if el["text"] == "喀山習近")
    assert other["attrs"]["lang"] == "zh-Hant"


def test_empty_result_for_a_traditional_query_offers_simplified(client):
    page = get(client, q="龜兔賽跑")
    by_text = {" ".join(el["text"].split()): query_of(el["attrs"]["href"]) for el in page.find("a", class_="suggestion")}
    assert by_text == {"in simplified characters: 龟兔赛跑": {"q": "龟兔赛跑"}}


# --- bad parameters ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, message",
    [
        ({"from": "yesterday"}, "from must be a date"),
        ({"to": "2024-02-30"}, "to must be a date"),
        ({"from": "2024-02-01", "to": "2024-01-01"}, "is after to"),
        ({"lang": "fr"}, "lang must be zh, en or both"),
        ({"sort": "score"}, "sort must be relevance or date"),
        ({"script": "latin"}, "script must be orig, hans or hant"),
        ({"size": "0"}, "size must be between 1 and 100"),
        ({"page": "x"}, "page must be a whole number"),
        ({"translate": "perhaps"}, "translate must be true or false"),
    ],
)
def test_bad_parameters_show_a_friendly_error_with_status_400(client, params, message):
    page = get(client, status=400, q="普京", **params)
    alert = " ".join(page.text("div", role="alert"))
    assert "Cannot search" in alert and message in alert
    assert "Traceback" not in page.html
    assert page.one("form", id="search-form")  # the form is still there to fix it
    assert page.one("input", id="q")["attrs"]["value"] == "普京"
    assert page.one("title")["text"].startswith("Error")


def test_bad_date_marks_the_field_invalid(client):
    page = get(client, status=400, q="普京", **{"from": "2024-99-01"})
    assert page.one("input", id="from")["attrs"].get("aria-invalid") == "true"
    fix = next(el for el in page.find("a") if "Search again without from" in el["text"])
    assert query_of(fix["attrs"]["href"]) == {"q": "普京"}


def test_unknown_html_path_is_a_friendly_404_page(client):
    page = get(client, "/no/such/page", status=404)
    assert "Not found" in page.html and "Traceback" not in page.html
    assert page.find("a", href="/")


def test_missing_index_is_a_friendly_503_page(tmp_path):
    app = create_app({"INDEX_DIR": str(tmp_path / "none"), "TESTING": True})
    page = get(app.test_client(), status=503, q="普京")
    assert "no index at" in " ".join(page.text("div", role="alert"))
    landing = get(app.test_client(), status=503)
    assert "python -m search index" in landing.html


# --- the article page -------------------------------------------------------------------------------


def test_article_page_shows_both_halves_and_metadata(client):
    page = get(client, "/articles/speaker-putin-1")
    assert page.one("title")["text"] == "普京在莫斯科发表讲话 – 新闻搜索 News search"
    h1 = " ".join(page.text("h1"))
    assert "普京在莫斯科发表讲话" in h1 and "Putin speaks in Moscow" in h1
    zh, en = page.one("section", class_="half-zh"), page.one("section", class_="half-en")
    assert "俄方愿同各方加强合作" in zh["text"] and zh["attrs"]["lang"] == "zh-Hans"
    assert "ready to strengthen cooperation" in en["text"] and en["attrs"]["lang"] == "en"
    meta = " ".join(page.text("dl", class_="article-meta"))
    assert "2022-03-01 09:30" in meta and "新华社" in meta and "新華社莫斯科3月1日電" in meta
    assert page.one("dd", class_="dateline")["attrs"]["lang"] == "zh-Hant"
    link = page.one("a", class_="source-link")
    assert link["attrs"]["href"] == "https://news.example/putin-moscow" and "noopener" in link["attrs"]["rel"]
    speaker = page.one("a", class_="speaker")
    assert "Vladimir Putin" in speaker["text"] and query_of(speaker["attrs"]["href"]) == {"speaker": "普京"}
    captions = page.text("p", class_="caption")
    assert captions == ["普京在克里姆林宫讲话。", "Putin speaks at the Kremlin."]


def test_article_page_highlights_the_query_in_both_languages(client):
    page = get(client, f"/articles/{SEED_ID}", q="习近平 Putin", size="5")
    assert "<mark>習近平</mark>" in page.html
    assert "<mark>Putin</mark>" in page.html
    assert page.one("section", class_="half-zh")["attrs"]["lang"] == "zh-Hant"
    back = page.one("a", href="/?q=%E4%B9%A0%E8%BF%91%E5%B9%B3+Putin&size=5")
    assert "Back to the results" in back["text"]
    assert page.one("input", id="q")["attrs"]["value"] == "习近平 Putin"


def test_article_page_marks_translations_unless_turned_off(client):
    page = get(client, "/articles/speaker-putin-1", q="普京")
    assert "<mark>普京</mark>" in page.html and "<mark>Putin</mark>" in page.html
    plain = get(client, "/articles/speaker-putin-1", q="普京", translate="false")
    assert "<mark>普京</mark>" in plain.html and "<mark>Putin</mark>" not in plain.html
    get(client, "/articles/speaker-putin-1", status=400, q="普京", translate="perhaps")


def test_article_page_phrase_query_marks_the_phrase(client):
    page = get(client, f"/articles/{SEED_ID}", q='"一带一路"')
    assert "<mark>一帶一路</mark>" in page.html


def test_article_page_without_query_marks_nothing(client):
    page = get(client, f"/articles/{SEED_ID}")
    assert "<mark>" not in page.html
    assert not page.find("p", class_="back")
    paragraphs = page.one("section", class_="half-zh")
    assert len([el for el in page.find("p") if el["attrs"].get("lang") == "zh-Hant"]) >= 5, paragraphs


def test_article_page_script_toggle(client):
    page = get(client, f"/articles/{SEED_ID}", q="習近平", script="hans")
    assert SEED_TITLE_HANS in " ".join(page.text("h1"))
    assert "<mark>习近平</mark>" in page.html
    assert page.one("section", class_="half-zh")["attrs"]["lang"] == "zh-Hans"
    links = {el["attrs"]["data-script"]: el["attrs"]["href"] for el in page.find("a") if "data-script" in el["attrs"]}
    assert links["hant"] == f"/articles/{SEED_ID}?q=%E7%BF%92%E8%BF%91%E5%B9%B3&script=hant"
    hant = get(client, "/articles/speaker-both-1", script="hant")
    assert "習近平同普京通電話" in " ".join(hant.text("h1"))


def test_article_page_never_links_an_unsafe_url(client):
    page = get(client, "/articles/unsafe-1")
    assert not page.find("a", class_="source-link")
    assert not [el for el in page.find("a") if el["attrs"].get("href", "").lower().startswith("javascript")]
    assert "javascript:alert(1)" in " ".join(page.text("dd", class_="source-url"))  # shown as text


@pytest.mark.parametrize("url, safe", [("https://a.example/x?y=1", True), ("http://a.example", True), ("HTTPS://A.EXAMPLE/", True), ("javascript:alert(1)", False), ("JavaScript:alert(1)", False), ("data:text/html,x", False), ("//a.example/x", False), ("ftp://a.example", False), ("https://", False), (" https://a.example ", True), ("", False), (None, False)])
def test_safe_url(url, safe):
    assert (safe_url(url) is not None) == safe


@pytest.mark.parametrize("article_id", ["reuters-154", "a/b c", "x?y#z&w=1", "50%", "習近平/新闻", "!$&'()*+,:;=@~", "//lead"])
@pytest.mark.parametrize("script_root", ["", "/news"])
def test_article_links_are_the_routes_own(app, article_id, script_root):
    """Article links are built without ``url_for`` per hit: they must still be what it builds."""
    from flask import url_for

    from web.views import article_path

    with app.test_request_context("/", base_url="http://localhost" + script_root):
        assert article_path(article_id) == url_for("views.article", article_id=article_id)
        assert article_path(article_id).startswith(script_root + "/articles/")


def test_links_follow_the_root_the_app_is_mounted_under(app):
    """Links built once (style sheet, search page, feed) are built once per root, not once for all."""
    client = app.test_client()
    for root in ("", "/news", ""):
        html = client.get("/?q=Putin", base_url="http://localhost" + root).get_data(as_text=True)
        hrefs = re.findall(r'(?:href|src|action)="(/[^"]*)"', html)
        assert f'href="{root}/static/style.css"' in html and f'href="{root}/api/stats"' in html
        assert f'href="{root}/feed.atom?q=Putin"' in html and f'href="{root}/?q=Putin&amp;script=hant"' in html
        assert all(h.startswith(root + "/") for h in hrefs if h != "/"), hrefs  # the form's action is "/" as written


def test_missing_article_is_a_friendly_404_page(client):
    page = get(client, "/articles/no-such-article", status=404)
    assert "no article with id" in page.html


def test_article_page_bad_script_is_400(client):
    page = get(client, f"/articles/{SEED_ID}", status=400, script="x")
    assert "script must be orig, hans or hant" in page.html


# --- escaping and the content security policy ----------------------------------------------------------------


def test_article_text_is_escaped_everywhere(client):
    for page in (get(client, q="cooperation", size="100"), get(client, "/articles/unsafe-1", q="markets")):
        assert "<script>alert" not in page.html and "<img src=x" not in page.html and "<b>trade</b>" not in page.html
        assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; Markets &amp; &lt;b&gt;trade&lt;/b&gt;" in page.html.replace("<mark>", "").replace("</mark>", "")
        assert "Test &lt;Wire&gt;" in page.html
        tags = {el["tag"] for el in page.elements}
        assert "img" not in tags and "b" not in tags
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.html  # the article body


def test_snippets_carry_only_mark_tags(client):
    page = get(client, q="cooperation traders", size="100")
    for snippet in re.findall(r'<p class="snippet[^"]*"[^>]*>(.*?)</p>', page.html, re.S):
        assert set(re.findall(r"</?([a-z]+)", snippet)) <= {"mark"}


@pytest.mark.parametrize("path, params", [("/", {}), ("/", {"q": "普京", "size": "3"}), ("/", {"q": "zzz", "speaker": "x"}), ("/", {"q": "x", "lang": "fr"}), (f"/articles/{SEED_ID}", {"q": "普京"}), ("/articles/nope", {}), ("/nope", {})])
def test_pages_have_no_inline_script_or_style_and_keep_the_csp(client, path, params):
    response = client.get(path, query_string=params)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    page = Page(response.get_data(as_text=True))
    for el in page.elements:
        assert el["tag"] != "style"
        assert "style" not in el["attrs"]
        assert not any(name.startswith("on") for name in el["attrs"])
        if el["tag"] == "script":
            assert el["attrs"].get("src", "").startswith("/static/") and not el["text"].strip()


def test_static_files_are_served(client):
    js = client.get("/static/app.js")
    css = client.get("/static/style.css")
    assert js.status_code == 200 and "javascript" in js.mimetype
    assert css.status_code == 200 and css.mimetype == "text/css"
    js.close()
    css.close()


# --- accessibility basics ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path, params", [("/", {"q": "普京"}), (f"/articles/{SEED_ID}", {})])
def test_skip_link_targets_an_element_on_the_page(client, path, params):
    page = get(client, path, **params)
    skip = page.one("a", class_="skip-link")
    target = skip["attrs"]["href"].lstrip("#")
    assert page.one(id=target)["attrs"].get("tabindex") == "-1"
    body = page.one("body")
    assert page.elements.index(skip) == page.elements.index(body) + 1  # the first thing a keyboard reaches


def test_every_chinese_text_is_inside_an_element_with_a_chinese_lang(client):
    page = get(client, q="普京 Putin", size="100")
    han = re.compile(r"[\u4e00-\u9fff]")
    stack: list[str] = []

    class LangCheck(HTMLParser):
        bad: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag not in Page.VOID:
                stack.append(dict(attrs).get("lang") or (stack[-1] if stack else ""))

        def handle_endtag(self, tag):
            if tag not in Page.VOID and stack:
                stack.pop()

        def handle_data(self, data):
            if han.search(data) and stack and not stack[-1].startswith("zh") and not self._in_title_or_input():
                self.bad.append(data.strip())

        def _in_title_or_input(self):
            return self.lasttag in ("title", "option")

    checker = LangCheck()
    checker.feed(page.html)
    assert not checker.bad, checker.bad[:5]


def test_inputs_have_labels(client):
    page = get(client, q="普京")
    labelled = {el["attrs"].get("for") for el in page.find("label")}
    for el in page.find("input"):
        if el["attrs"].get("type") in ("hidden", "radio"):
            continue
        assert el["attrs"].get("id") in labelled or el["attrs"].get("aria-label") or _inside_label(page, el), el
    assert page.one("html")["attrs"]["lang"] == "en"


def _inside_label(page: Page, input_el: dict) -> bool:
    return any(label["html_start"] < input_el["html_start"] for label in page.find("label") if "for" not in label["attrs"])


def test_the_web_package_never_imports_whoosh():
    import ast
    from pathlib import Path

    import web

    for path in Path(web.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.split(".")[0] == "whoosh" for n in names), f"{path.name} imports whoosh"
