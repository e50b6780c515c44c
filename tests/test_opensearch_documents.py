"""Articles as OpenSearch documents: what is indexed, what is kept for listings (no node needed)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, strategies as st

from search.backends.base import summary
from search.backends.opensearch.documents import (
    INDEXED_FIELDS, LISTING_CHARS, LISTING_FIELDS, index_body, listing, listing_request, stored_fields, to_source,
)
from search.model import Article

DATE = datetime(2024, 10, 22, 18, 30, tzinfo=timezone(timedelta(hours=8)))


def as_hit(source: dict) -> dict:
    """A hit as the node answers :func:`listing_request`: each doc value as a one-element list."""
    return {"fields": {name: [source[name]] for name in ("id", *LISTING_FIELDS.values()) if name in source}}


def test_a_listing_from_doc_values_equals_the_one_from_the_stored_document():
    article = Article("a1", title={"zh": "习近平会见普京", "en": "Xi meets Putin"}, body={"zh": "会晤。", "en": "They met."},
                      date=DATE, source="新华社")
    source = to_source((article, "digest"))
    assert summary(listing(as_hit(source))) == summary(stored_fields(source)) == {
        "id": "a1", "title": {"zh": "习近平会见普京", "en": "Xi meets Putin"}, "date": DATE.isoformat(), "source": "新华社"}


def test_missing_fields_are_missing_from_the_listing_too():
    source = to_source((Article("a2", body={"en": "Only a body."}), "digest"))
    assert not set(LISTING_FIELDS.values()) & set(source)
    assert summary(listing(as_hit(source))) == summary(stored_fields(source)) == {
        "id": "a2", "title": {"zh": None, "en": None}, "date": None, "source": None}


@given(st.text(min_size=1, max_size=3 * LISTING_CHARS // 2))
def test_a_listed_title_fits_a_doc_value_and_is_the_stored_title_or_its_beginning(title):
    source = to_source((Article("a3", title={"en": title}, body={"en": "body"}), "digest"))
    listed = source["list_title_en"]
    assert len(listed.encode("utf-8")) <= 32_766  # Lucene's limit for one doc value
    assert listed == title[:LISTING_CHARS] and source["doc"]["title_en"] == title


def test_the_mapping_keeps_listings_as_doc_values_only_and_out_of_source():
    mapping = index_body(1, 0, 10_000)["mappings"]
    for name in LISTING_FIELDS.values():
        assert mapping["properties"][name] == {"type": "keyword", "index": False, "doc_values": True}
    assert set(mapping["_source"]["excludes"]) == {*INDEXED_FIELDS, *LISTING_FIELDS.values()}
    asked = listing_request()
    assert asked["_source"] is False and set(asked["docvalue_fields"]) == {"id", *LISTING_FIELDS.values()}
