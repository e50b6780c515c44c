"""The search page's "N similar articles" and the article page's "Other versions" and "Related"."""

from __future__ import annotations

import re

import pytest

from tests.dupdata import COPIES, SEED_ID, dup_web_app

@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with dup_web_app(tmp_path_factory, "dup-views") as app:
        yield app


def _hit_ids(html: str) -> list[str]:
    return re.findall(r'<li class="hit" data-id="([^"]+)"', html)


def test_search_page_shows_one_hit_per_story_with_its_versions_folded(client):
    html = client.get("/", query_string={"q": "習近平 普京 會晤", "size": 20}).get_data(as_text=True)
    ids = _hit_ids(html)
    assert len(COPIES & set(ids)) == 1
    assert "3 similar articles" in html
    folded = html.split('<details class="duplicates">', 1)[1].split("</details>", 1)[0]
    assert {f"/articles/{i}" for i in COPIES - set(ids)} <= set(re.findall(r'href="(/articles/[^"?]+)', folded))
    assert "stories" in html and "show every version" in html


def test_collapse_false_in_the_url_shows_every_version(client):
    html = client.get("/", query_string={"q": "習近平 普京 會晤", "size": 20, "collapse": "false"}).get_data(as_text=True)
    assert COPIES <= set(_hit_ids(html))
    assert "similar articles" not in html and "one per story" in html


def test_article_page_lists_other_versions_and_related(client):
    html = client.get(f"/articles/{SEED_ID}").get_data(as_text=True)
    versions = html.split('id="versions-title"', 1)[1].split("</section>", 1)[0]
    related = html.split('id="related-title"', 1)[1].split("</section>", 1)[0]
    assert "/articles/copy-hans" in versions and "/articles/copy-en" in versions
    assert "/articles/related-en" in related and "/articles/related-zh" in related
    assert "/articles/copy-hans\"" not in related and "copy-en" not in related
