"""``/feed.atom``: an Atom 1.0 feed of the newest matches of any search, checked with feedparser
and against RFC 4287's required elements."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import feedparser
import pytest

from tests.dailydata import build_daily_index
from tests.webdata import web_app

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with web_app(build_daily_index(tmp_path_factory.mktemp("feeds"))) as app:
        yield app


def test_feed_is_valid_atom_newest_first_with_the_filters(client):
    response = client.get("/feed.atom", query_string={"q": "金砖国家", "speaker": "李强", "from": "2024-10-02"})
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert "金砖国家" in parsed.feed.title and "speaker: 李强" in parsed.feed.title
    assert parsed.feed.id.startswith("http://localhost/feed.atom?")
    assert parsed.entries and all("李强" in [t.label.split(" / ")[0] for t in e.tags] for e in parsed.entries)
    updated = [e.updated_parsed for e in parsed.entries]
    assert updated == sorted(updated, reverse=True)
    assert all(e.updated >= "2024-10-02" for e in parsed.entries)
    assert parsed.entries[0].summary.startswith("<p>金砖国家")  # the snippets (feedparser drops <mark>, the feed has it)
    assert b"&lt;mark&gt;" in response.data

    # RFC 4287: feed id, title, updated, author; every entry id, title, updated, an alternate link.
    root = ET.fromstring(response.data)
    for tag in ("id", "title", "updated", "author"):
        assert root.find(ATOM + tag) is not None, tag
    entries = root.findall(ATOM + "entry")
    assert entries
    for entry in entries:
        for tag in ("id", "title", "updated"):
            assert len(entry.findall(ATOM + tag)) == 1, tag
        alternates = [link for link in entry.findall(ATOM + "link") if link.get("rel") == "alternate"]
        assert len(alternates) == 1 and "/articles/" in alternates[0].get("href")
    assert len({e.findtext(ATOM + "id") for e in entries}) == len(entries)


def test_feed_without_a_query_lists_the_newest_articles_and_size_bounds_it(client):
    parsed = feedparser.parse(client.get("/feed.atom?size=5").data)
    assert not parsed.bozo and len(parsed.entries) == 5
    assert parsed.entries[0].updated.startswith("2024-10-28")


def test_feed_of_nothing_is_still_valid(client):
    parsed = feedparser.parse(client.get("/feed.atom?q=zzzzqqqq").data)
    assert not parsed.bozo and parsed.entries == [] and parsed.feed.updated


@pytest.mark.parametrize("query", ["size=0", "size=101", "from=2024-13-01", "sort=date", "nonsense=1"])
def test_feed_refuses_bad_parameters(client, query):
    response = client.get("/feed.atom?" + query)
    assert response.status_code == 400
    assert query.split("=")[0] in response.get_data(as_text=True)
