"""The web pages in a real browser: Debian's Chromium driven by Playwright, against the real
server (``python -m search serve`` on 127.0.0.1) over the small web test index.

Skipped, saying why, when Chromium or Playwright is not installed or Chromium cannot start.
Screenshots go to ``artifacts/screenshots/``.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.reldata import Server
from tests.webdata import SEED_ID, SEED_TITLE, SEED_TITLE_HANS, build_web_index, speaker_filter_works

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "screenshots"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return build_web_index(tmp_path_factory.mktemp("web-browser"))


@pytest.fixture(scope="module")
def base_url(index_dir):
    with Server(index_dir, threads=None) as server:
        # Warm up (the first page loads the templates) so browser waits stay short.
        with urllib.request.urlopen(server.base + "/?q=%E6%99%AE%E4%BA%AC", timeout=30) as response:
            response.read()
        yield server.base


class Tab:
    """A page plus the console errors it logged (a CSP violation is one)."""

    def __init__(self, page, base: str) -> None:
        self.page = page
        self.base = base
        self.errors: list[str] = []
        page.set_default_timeout(TIMEOUT_MS)
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def goto(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status < 500

    def params(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.page.url).query, keep_blank_values=True).items()}

    def hit_ids(self) -> list[str]:
        return self.page.eval_on_selector_all("li.hit", "els => els.map(e => e.dataset.id)")

    def texts(self, selector: str) -> list[str]:
        return [" ".join(t.split()) for t in self.page.eval_on_selector_all(selector, "els => els.map(e => e.textContent)")]

    def assert_clean(self) -> None:
        assert not self.errors, self.errors


@pytest.fixture
def tab(browser, base_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        yield Tab(context.new_page(), base_url)
    finally:
        context.close()


def shot(page, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=full_page)


def submit(tab: Tab, selector: str, url_pattern: str) -> None:
    """Press Enter in a field and wait for the results page the form leads to."""
    tab.page.press(selector, "Enter")
    tab.page.wait_for_url(re.compile(url_pattern))
    tab.page.wait_for_load_state()


# --- searching -----------------------------------------------------------------------------------------


def test_search_in_traditional_then_simplified(tab):
    page = tab.page
    tab.goto("/")
    assert page.title() == "新闻搜索 News search"
    assert page.evaluate("document.activeElement.id") == "q"  # the search box has the focus
    page.fill("#q", "習近平")
    submit(tab, "#q", r"q=%E7%BF%92")
    assert tab.params() == {"q": "習近平"}  # empty filters are left out of the URL
    assert page.title() == "習近平 – 新闻搜索 News search"
    seed = page.locator(f'li.hit[data-id="{SEED_ID}"]')
    assert seed.locator(".title-zh").inner_text() == SEED_TITLE
    assert seed.locator(".title-zh").get_attribute("lang") == "zh-Hant"
    assert "Xi says China, Russia" in seed.locator(".title-en").inner_text()
    assert "2024-10-23 08:59" in seed.locator(".meta").inner_text()
    assert "新華網" in seed.locator(".meta").inner_text()
    assert "習近平" in seed.locator(".snippet-zh mark").all_inner_texts()
    assert seed.locator(".snippet-en").count() >= 1
    assert re.match(r"\d+ results? · \d+\.\d ms", page.locator("#summary").inner_text())
    assert "习近平" in page.locator("dl.interpreted").inner_text()
    if seed.locator(".speakers").count():
        assert "Xi Jinping" in seed.locator(".speakers").inner_text()
    shot(page, "search.png")

    page.fill("#q", "习近平")
    submit(tab, "#q", r"q=%E4%B9%A0")
    assert tab.params() == {"q": "习近平"}
    seed = page.locator(f'li.hit[data-id="{SEED_ID}"]')
    assert seed.locator(".title-zh").inner_text() == SEED_TITLE  # shown as published
    assert "習近平" in seed.locator(".snippet-zh mark").all_inner_texts()  # a simplified query marks traditional text
    tab.assert_clean()


def test_date_filter_then_speaker_filter(tab, index_dir):
    page = tab.page
    tab.goto("/?q=%E6%99%AE%E4%BA%AC")  # 普京
    everything = len(tab.hit_ids())
    page.fill("#from", "2022-01-01")
    page.fill("#to", "2022-12-31")
    page.click("button.apply")
    page.wait_for_url(re.compile(r"from=2022-01-01"))
    assert tab.params() == {"q": "普京", "from": "2022-01-01", "to": "2022-12-31"}
    dates = page.eval_on_selector_all("li.hit time", "els => els.map(e => e.getAttribute('datetime'))")
    assert dates and all(d.startswith("2022") for d in dates)
    assert len(dates) < everything
    assert page.locator(".facet-years a[aria-current]").inner_text().startswith("2022")
    assert page.input_value("#from") == "2022-01-01"

    # The speaker box suggests names from /api/speakers as one types.
    page.fill("#from", "")
    page.fill("#to", "")
    page.click("#speaker")
    page.locator("#speaker").press_sequentially("普", delay=20)
    page.wait_for_selector("#speaker-options option", state="attached")  # (wait_for_function would need unsafe-eval)
    options = page.eval_on_selector_all("#speaker-options option", "els => els.map(e => e.value)")
    assert "普京" in options
    page.fill("#speaker", "普京")
    submit(tab, "#speaker", r"speaker=%E6%99%AE%E4%BA%AC")
    assert tab.params() == {"q": "普京", "speaker": "普京"}
    assert page.input_value("#speaker") == "普京"
    assert page.locator("a[data-remove=speaker]").count() == 1
    if speaker_filter_works(index_dir):
        speakers = tab.texts("li.hit .speakers")
        assert speakers and all("Vladimir Putin" in s for s in speakers)
        assert len(speakers) == len(tab.hit_ids())
    else:
        assert "No articles match" in page.locator("main").inner_text()

    # A year facet is a link that sets the date range.
    page.click(".facet-years a[data-year='2022']")
    page.wait_for_url(re.compile(r"from=2022-01-01"))
    assert tab.params() == {"q": "普京", "speaker": "普京", "from": "2022-01-01", "to": "2022-12-31"}
    tab.assert_clean()


def test_paging_forward_and_back_with_the_browser_button(tab):
    page = tab.page
    tab.goto("/?q=%E6%99%AE%E4%BA%AC&size=5")
    first = tab.hit_ids()
    assert len(first) == 5
    page.click("a[rel=next]")
    page.wait_for_url(re.compile(r"page=2"))
    second = tab.hit_ids()
    assert len(second) == 5 and not set(second) & set(first)
    assert page.get_attribute("ol.hits", "start") == "6"
    assert page.locator("nav.pages a[aria-current=page]").inner_text() == "2"
    page.click("nav.pages a[aria-label='Page 3']")
    page.wait_for_url(re.compile(r"page=3"))
    third = tab.hit_ids()
    assert third and not set(third) & (set(first) | set(second))
    assert "第 3 页" in page.title()

    page.go_back()
    page.wait_for_url(re.compile(r"page=2"))
    assert tab.hit_ids() == second
    page.go_back()
    page.wait_for_url(lambda url: "page=" not in url)
    assert tab.hit_ids() == first
    assert page.input_value("#q") == "普京"
    page.go_forward()
    page.wait_for_url(re.compile(r"page=2"))
    assert tab.hit_ids() == second
    tab.assert_clean()


# --- the article page and the script display ------------------------------------------------------


def test_open_an_article_and_toggle_the_script(tab):
    page = tab.page
    tab.goto("/?q=%E7%BF%92%E8%BF%91%E5%B9%B3")  # 習近平
    page.click(f'li.hit[data-id="{SEED_ID}"] h2 a')
    page.wait_for_url(re.compile(rf"/articles/{SEED_ID}\?q="))
    h1 = page.locator("h1")
    assert SEED_TITLE in h1.inner_text() and "Xi says China, Russia" in h1.inner_text()
    zh, en = page.locator("section.half-zh"), page.locator("section.half-en")
    assert zh.get_attribute("lang") == "zh-Hant"
    assert "喀山克里姆林宮" in zh.inner_text() and "Vladimir Putin" in en.inner_text()
    assert "習近平" in zh.locator("mark").all_inner_texts()
    zbox, ebox = zh.bounding_box(), en.bounding_box()
    assert zbox["x"] + zbox["width"] <= ebox["x"] and abs(zbox["y"] - ebox["y"]) < 5  # side by side
    assert "2024-10-23 08:59" in page.locator("dl.article-meta").inner_text()
    shot(page, "article.png")

    page.click("a[data-script=hans]")
    page.wait_for_url(re.compile(r"script=hans"))
    assert SEED_TITLE_HANS in page.locator("h1").inner_text()
    assert page.locator("section.half-zh").get_attribute("lang") == "zh-Hans"
    assert "习近平" in page.locator("section.half-zh mark").all_inner_texts()  # highlights survive conversion
    assert page.locator("a[data-script=hans]").get_attribute("aria-current") == "true"

    page.click("text=Back to the results")
    page.wait_for_url(lambda url: "/articles/" not in url)
    assert tab.params() == {"q": "習近平", "script": "hans"}
    seed = page.locator(f'li.hit[data-id="{SEED_ID}"]')
    assert seed.locator(".title-zh").inner_text() == SEED_TITLE_HANS
    assert "习近平" in seed.locator(".snippet-zh mark").all_inner_texts()

    page.click("a[data-script=hant]")
    page.wait_for_url(re.compile(r"script=hant"))
    titles = tab.texts("li.hit .title-zh")
    assert "習近平同普京通電話" in titles  # a simplified article shown in traditional characters
    assert SEED_TITLE in titles
    assert set(page.eval_on_selector_all("li.hit .title-zh", "els => els.map(e => e.lang)")) == {"zh-Hant"}
    page.click("a[data-script=orig]")
    page.wait_for_url(lambda url: "script=" not in url)
    assert "习近平同普京通电话" in tab.texts("li.hit .title-zh")
    tab.assert_clean()


# --- phone width, keyboard, no JavaScript ---------------------------------------------------------------


def test_phone_width(browser, base_url):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        tab = Tab(context.new_page(), base_url)
        page = tab.page
        tab.goto("/?q=%E6%99%AE%E4%BA%AC&size=5")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        bar, main = (page.locator(s).bounding_box() for s in (".searchbar", "#results"))
        assert bar["y"] < main["y"] and main["width"] <= 375  # stacked: search box, results
        # The filters are folded behind one button so the first result shows on the first screen.
        assert not page.locator("#from").is_visible()
        first = page.locator("li.hit").first.bounding_box()
        assert first["y"] < 740
        shot(page, "search-phone.png", full_page=False)
        page.click("#filters-toggle")
        assert page.locator("#from").is_visible()
        side, main = page.locator(".sidebar").bounding_box(), page.locator("#results").bounding_box()
        assert side["y"] < main["y"] and side["width"] <= 375  # opened above the results
        page.fill("#from", "2022-01-01")
        page.click("button.apply")
        page.wait_for_url(re.compile(r"from=2022-01-01"))
        assert not page.locator("#from").is_visible()  # results first again; the button counts the filter
        assert page.locator("#filters-toggle").inner_text().endswith("(1)")

        tab.goto(f"/articles/{SEED_ID}?q=%E6%99%AE%E4%BA%AC")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        zh, en = page.locator("section.half-zh").bounding_box(), page.locator("section.half-en").bounding_box()
        assert en["y"] >= zh["y"] + zh["height"] - 1  # stacked, Chinese first
        shot(page, "article-phone.png", full_page=False)
        tab.assert_clean()
    finally:
        context.close()


def test_keyboard_only(tab):
    page = tab.page
    tab.goto("/?q=%E6%99%AE%E4%BA%AC")
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.className, document.activeElement.getAttribute('href')]")
    assert focused == ["skip-link", "#results"]
    box = page.locator("a.skip-link").bounding_box()
    assert box["y"] >= 0  # visible when focused
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"#results$"))
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('#results')")  # the next stop is in the results
    # From the search box, Enter searches.
    page.focus("#q")
    page.keyboard.press("Control+A")
    page.keyboard.type("Putin")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=Putin"))
    assert page.locator("li.hit").count() > 0
    tab.assert_clean()


def test_everything_works_without_javascript(browser, base_url):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1024, "height": 800})
    try:
        tab = Tab(context.new_page(), base_url)
        page = tab.page
        tab.goto("/")
        page.fill("#q", "普京")
        page.fill("#speaker", "Putin")
        page.check("input[name=sort][value=date]")
        page.click("button.apply")
        page.wait_for_url(re.compile(r"sort=date"))
        params = tab.params()
        assert params["q"] == "普京" and params["speaker"] == "Putin" and params["sort"] == "date"
        assert page.input_value("#speaker") == "Putin"  # a plain text box without the autocomplete
        dates = page.eval_on_selector_all("li.hit time", "els => els.map(e => e.getAttribute('datetime'))")
        assert dates == sorted(dates, key=lambda d: d[:10], reverse=True)
        tab.goto("/?q=%E6%99%AE%E4%BA%AC&size=5")
        page.click("a[rel=next]")
        page.wait_for_url(re.compile(r"page=2"))
        page.click("li.hit h2 a >> nth=0")
        page.wait_for_url(re.compile(r"/articles/"))
        assert page.locator("section.half-zh mark").count() > 0
    finally:
        context.close()


def test_bad_parameter_shows_a_friendly_error(tab):
    page = tab.page
    response = page.goto(tab.base + "/?q=%E6%99%AE%E4%BA%AC&from=2024-13-40")
    assert response.status == 400
    assert "from must be a date" in page.locator("[role=alert]").inner_text()
    assert page.input_value("#q") == "普京"
    page.click("text=Search again without from")
    page.wait_for_url(lambda url: "from=" not in url)
    assert page.locator("li.hit").count() > 0
