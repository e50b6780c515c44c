"""The search page as a daily tool, in real Chromium at desktop (1280 px) and phone (390 px)
widths against the real server: facets that fit, the timeline, suggestions as you type, the
feed and exports, reading (wire text, kept filters, Taiwan forms) and both colour schemes.

Screenshots go to ``artifacts/screenshots/`` (git-ignored; CI keeps them as artifacts).
"""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.request
from pathlib import Path

import pytest

from tests.dailydata import PEOPLE, TW_ID, WIRE_ID, build_daily_index
from tests.reldata import Server
from tests.test_browser import Tab, shot

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
Q_ALL = "/?q=%E9%87%91%E7%A0%96%E5%9B%BD%E5%AE%B6"  # 金砖国家: the October 2024 stories


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    index_dir = build_daily_index(tmp_path_factory.mktemp("web-daily"))
    with Server(index_dir, threads=None) as server:
        with urllib.request.urlopen(server.base + Q_ALL, timeout=30) as response:  # warm up
            response.read()
        yield server.base


@pytest.fixture(params=list(WIDTHS))
def tab(request, browser, base_url):
    width, height = WIDTHS[request.param]
    phone = request.param == "phone"
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US", is_mobile=phone, has_touch=phone)
    try:
        t = Tab(context.new_page(), base_url)
        t.name = request.param
        t.phone = phone
        yield t
    finally:
        context.close()


def open_filters(tab: Tab) -> None:
    """On a phone the filters are behind the Filters button; on a desktop they are always shown."""
    if tab.phone:
        assert not tab.page.locator("#from").is_visible()
        tab.page.click("#filters-toggle")
    assert tab.page.locator("#from").is_visible()


def visible_speakers(tab: Tab) -> list[str]:
    return tab.page.eval_on_selector_all(
        ".facet-speakers a[data-speaker]", "els => els.filter(e => e.checkVisibility()).map(e => e.dataset.speaker)"
    )


# --- (a) facets that fit -------------------------------------------------------------------------------


def test_facets_fit_show_more_filter_box_and_chips(tab):
    page = tab.page
    tab.goto(Q_ALL)
    total = len(page.locator(".facet-speakers a[data-speaker]").all())
    assert total > 10
    if tab.phone:  # results first: the first result is on the first screen, the filters folded
        assert page.locator("li.hit").first.bounding_box()["y"] < WIDTHS["phone"][1]
        assert page.locator("#filters-toggle").inner_text().startswith("Filters")
        shot(page, "daily-facets-phone-folded.png", full_page=False)
    open_filters(tab)
    assert len(visible_speakers(tab)) == 10  # the top ten, then "Show N more"
    more = page.locator("#speaker-more > summary")
    assert more.inner_text() == f"Show {total - 10} more"
    counts = page.eval_on_selector_all(".facet-speakers .count", "els => els.map(e => +e.textContent)")
    assert counts == sorted(counts, reverse=True) and counts[0] > 1
    more.click()
    assert len(visible_speakers(tab)) == total
    more.click()
    # The filter box inside the facet finds a speaker among the hidden ones, by either name or script.
    rare = PEOPLE[-1]  # 蔡奇, quoted least
    assert rare[1] not in visible_speakers(tab)
    page.fill("#speaker-facet-filter", "cai")
    assert visible_speakers(tab) == [rare[1]]
    page.fill("#speaker-facet-filter", "nobody-like-this")
    assert visible_speakers(tab) == [] and page.locator(".facet-none").is_visible()
    page.fill("#speaker-facet-filter", "蔡")
    assert visible_speakers(tab) == [rare[1]]
    shot(page, f"daily-facets-{tab.name}.png")
    page.click(f".facet-speakers a[data-speaker='{rare[1]}']")
    page.wait_for_url(re.compile("speaker="))
    assert tab.params()["speaker"] == rare[1]
    # The chosen value is a removable chip; on a phone the button counts the filters on.
    chip = page.locator("a[data-remove=speaker]")
    assert rare[1] in chip.inner_text()
    if tab.phone:
        assert page.locator("#filters-toggle").inner_text().endswith("(1)")
        assert not page.locator("#from").is_visible()  # still folded: results first
        assert page.locator("li.hit").first.bounding_box()["y"] < WIDTHS["phone"][1]
        shot(page, "daily-chip-phone.png", full_page=False)
    chip.click()
    page.wait_for_url(lambda url: "speaker=" not in url)
    tab.assert_clean()


@pytest.mark.parametrize("width", [1280, 1024, 800])
def test_date_inputs_stay_in_the_filter_column(browser, base_url, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
    try:
        page = context.new_page()
        page.goto(base_url + Q_ALL)
        side = page.locator("#filters").bounding_box()
        results = page.locator("#results").bounding_box()
        for field in ("#from", "#to"):
            box = page.locator(field).bounding_box()
            assert box["x"] >= side["x"] - 0.5 and box["x"] + box["width"] <= side["x"] + side["width"] + 0.5, (field, box, side)
            assert box["x"] + box["width"] <= results["x"], (field, box, results)  # never over the result numbers
        shot(page, f"daily-dates-{width}.png", full_page=False)
    finally:
        context.close()


def test_few_tab_stops_from_the_search_box_to_the_first_result(tab):
    page = tab.page
    tab.goto(Q_ALL + "&speaker=%E6%9D%8E%E5%BC%BA&from=2024-10-01")  # two filters on
    page.focus("#q")
    for presses in range(1, 30):
        page.keyboard.press("Tab")
        if page.evaluate("!!(document.activeElement.closest && document.activeElement.closest('li.hit h2'))"):
            break
    # search button, (phone: the Filters button), two filter chips, then the first result
    assert presses <= (6 if tab.phone else 5), presses
    tab.assert_clean()


# --- (b) the timeline ----------------------------------------------------------------------------------


def test_timeline_by_month_and_by_day_click_and_drag(tab):
    page = tab.page
    tab.goto("/?q=*")
    open_filters(tab)
    timeline = page.locator("#timeline")
    assert timeline.get_attribute("data-unit") in ("month", "year")
    bars = page.locator(".timeline-chart a.bar")
    assert bars.count() >= 3
    label = bars.first.get_attribute("aria-label")
    assert re.match(r"\d{4}(-\d{2})?: \d+ articles?$", label)
    # A short range is drawn per day; each bar is a link to its day.
    tab.goto(Q_ALL + "&from=2024-10-01&to=2024-10-31")
    open_filters(tab)
    assert page.locator("#timeline").get_attribute("data-unit") == "day"
    days = page.locator(".timeline-chart li")
    assert days.count() == 28
    shot(page, f"daily-timeline-{tab.name}.png")
    page.click(".timeline-chart li[data-from='2024-10-05'] a")
    page.wait_for_url(re.compile("to=2024-10-05"))
    assert tab.params()["from"] == "2024-10-05"
    assert [d[:10] for d in page.eval_on_selector_all("li.hit time", "els => els.map(e => e.getAttribute('datetime'))")] == ["2024-10-05"]
    # Dragging across bars chooses their range.
    tab.goto(Q_ALL + "&from=2024-10-01&to=2024-10-31")
    open_filters(tab)
    start = page.locator(".timeline-chart li[data-from='2024-10-03']").bounding_box()
    end = page.locator(".timeline-chart li[data-from='2024-10-09']").bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] - 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] - 2, steps=8)
    page.mouse.up()
    page.wait_for_url(re.compile("to=2024-10-09"))
    assert tab.params()["from"] == "2024-10-03" and tab.params()["to"] == "2024-10-09"
    assert len(tab.hit_ids()) == 7
    tab.assert_clean()


def test_timeline_links_work_without_javascript(browser, base_url):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(base_url + Q_ALL + "&from=2024-10-01&to=2024-10-31")
        page.click("#filters-toggle")  # a plain link down to the filters
        page.click(".timeline-chart li[data-from='2024-10-07'] a")
        page.wait_for_url(re.compile("from=2024-10-07"))
        assert "to=2024-10-07" in page.url
        assert page.locator("li.hit").count() == 1
    finally:
        context.close()


# --- (c) suggestions as you type -----------------------------------------------------------------------


def test_suggestions_keyboard_and_slash(tab):
    page = tab.page
    tab.goto("/")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    q = page.locator("#q")
    assert q.get_attribute("role") == "combobox" and q.get_attribute("aria-expanded") == "false"
    page.keyboard.type("習", delay=30)  # traditional: suggestions in traditional script, from simplified text
    page.wait_for_selector("#q-suggestions [role=option]")
    assert q.get_attribute("aria-expanded") == "true"
    options = [" ".join(t.split()) for t in page.locator("#q-suggestions [role=option]").all_inner_texts()]
    assert any(o.startswith("習近平") for o in options), options
    shot(page, f"daily-suggest-{tab.name}.png", full_page=False)
    page.keyboard.press("ArrowDown")
    first = page.locator("#q-suggestions [role=option]").first
    assert q.get_attribute("aria-activedescendant") == first.get_attribute("id")
    assert first.get_attribute("aria-selected") == "true"
    page.keyboard.press("Escape")
    assert q.get_attribute("aria-expanded") == "false" and not page.locator("#q-suggestions").is_visible()
    # English, a word: arrows then Enter searches it.
    page.fill("#q", "")
    page.keyboard.type("coop", delay=30)
    page.wait_for_selector("#q-suggestions .suggestion-term")
    terms = page.locator("#q-suggestions [role=option]")
    n = [i for i in range(terms.count()) if "suggestion-term" in (terms.nth(i).get_attribute("class") or "")][0]
    for _ in range(n + 1):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=cooperation"))
    assert page.locator("li.hit").count() > 0
    tab.assert_clean()


# --- (d) follow and take away --------------------------------------------------------------------------


def test_feed_and_exports_from_the_page(tab):
    import feedparser

    page = tab.page
    tab.goto(Q_ALL + "&speaker=%E6%9D%8E%E5%BC%BA")  # 李强
    total = int(re.match(r"(\d+)", page.locator("#summary .total").inner_text()).group(1))
    feed_href = page.get_attribute("link[rel=alternate][type='application/atom+xml']", "href")
    open_filters(tab)
    assert page.get_attribute("a.feed-link", "href") == feed_href
    parsed = feedparser.parse(page.request.get(tab.base + feed_href).body())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10" and len(parsed.entries) == min(total, 20)
    dates = [e.updated for e in parsed.entries]
    assert dates == sorted(dates, reverse=True)  # newest first
    shot(page, f"daily-follow-{tab.name}.png")
    with page.expect_download() as info:
        page.click("a.export-csv")
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text("utf-8-sig"))))
    assert len(rows) == total and all("李强" in r["speakers"] for r in rows)
    with page.expect_download() as info:
        page.click("a.export-jsonl")
    lines = [json.loads(line) for line in Path(info.value.path()).read_text("utf-8").splitlines()]
    assert [r["id"] for r in lines] == [r["id"] for r in rows]
    tab.assert_clean()


# --- (e) reading ---------------------------------------------------------------------------------------


def test_wire_text_paragraphs_kept_filters_and_taiwan_forms(tab):
    page = tab.page
    tab.goto(f"/articles/{WIRE_ID}")
    paras = tab.texts("section.half-en > p")
    assert len(paras) == 3 and paras[0].startswith("Showers continued throughout the week in the Bahia cocoa zone")
    shot(page, f"daily-wire-{tab.name}.png")

    tab.goto(Q_ALL + "&speaker=%E6%9D%8E%E5%BC%BA&from=2024-10-01&sort=date")
    page.click("li.hit h2 a >> nth=0")
    page.wait_for_url(re.compile("/articles/"))
    assert "speaker 李强" in page.locator("#kept-filters").inner_text()
    page.fill("#q", "BRICS")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"q=BRICS"))
    assert {k: tab.params().get(k) for k in ("speaker", "from", "sort")} == {"speaker": "李强", "from": "2024-10-01", "sort": "date"}
    page.click("li.hit h2 a >> nth=0")
    page.wait_for_url(re.compile("/articles/"))
    page.click("text=Back to the results")
    page.wait_for_url(lambda url: "/articles/" not in url)
    assert tab.params() == {"q": "BRICS", "from": "2024-10-01", "speaker": "李强", "sort": "date"}

    tab.goto(f"/articles/{TW_ID}?script=hant")
    text = page.locator("section.half-zh").inner_text() + page.locator("h1").inner_text()
    assert "為" in text and "著" in text and "裡" in text and not {"爲", "着", "裏"} & set(text)
    tab.goto(f"/articles/{TW_ID}?script=hans")
    assert "为人民服务，着力推动发展" in page.locator("section.half-zh").inner_text()
    tab.goto(f"/articles/{TW_ID}")
    assert "为人民服务，着力推动发展" in page.locator("section.half-zh").inner_text()
    shot(page, f"daily-tw-{tab.name}.png")
    tab.assert_clean()


# --- (f) dark mode and contrast ------------------------------------------------------------------------

# Every element with its own visible text: its colour against the first opaque background behind it.
CONTRAST_JS = """
() => {
  const parse = c => { const m = c.match(/[\\d.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; };
  const lum = ({r, g, b}) => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = el => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c.a > 0.5) return c; }
    return parse(getComputedStyle(document.documentElement).backgroundColor); };
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || el.closest('.visually-hidden, .skip-link')) continue;
    const fg = parse(style.color), bg = background(el);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    out.push({tag: el.tagName, cls: el.className && el.className.baseVal === undefined ? el.className : '', text: el.textContent.trim().slice(0, 30),
              ratio: (hi + 0.05) / (lo + 0.05), fg: style.color, bg: `rgb(${bg.r}, ${bg.g}, ${bg.b})`});
  }
  return out;
}
"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_contrast_in_both_colour_schemes(browser, base_url, scheme):
    for name, (width, height) in WIDTHS.items():
        context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
        try:
            page = context.new_page()
            for path in (Q_ALL + "&speaker=%E6%9D%8E%E5%BC%BA", f"/articles/{WIRE_ID}?q=cocoa", "/?q=nothing-matches-this&from=2024-01-01"):
                page.goto(base_url + path)
                if name == "phone" and page.locator("#filters-toggle").count():
                    page.click("#filters-toggle")
                page.fill("#q", "習")
                page.wait_for_timeout(400)  # the suggestions list, if any, is checked too
                background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
                assert (background == "rgb(20, 20, 20)") == (scheme == "dark"), background
                found = page.evaluate(CONTRAST_JS)
                assert len(found) > 10
                low = [f for f in found if f["ratio"] < 4.5]
                assert not low, low[:5]
            shot(page, f"daily-contrast-{scheme}-{name}.png")
        finally:
            context.close()
