"""Near-duplicate groups on OpenSearch: grouped as articles are written, collapsed as they are searched.

Writing: the indexing process groups each article with :class:`search.dedup.Deduper`, in add
order, as the Whoosh backend does; an indexing run starts from the state rebuilt from what the
index stores (``dup_sig``: the signatures, binary, not indexed; ``dup_group``: the group, a
keyword). Every article has a ``dup_group`` (its own id when grouping is off): field collapsing
would otherwise put all articles without one in a single group.

Searching: one hit per group is OpenSearch's field collapsing on ``dup_group``. Complete matches
(the plan's primary) rank before partial ones (its fallback) in one collapsed query over both, so a
story is listed once, at the place of its best article, and lists its partial matches among its
versions, as on Whoosh. How many stories the matches make is a ``cardinality`` aggregation in the
same ``msearch``. The listed stories' other matching articles come from one more search, filtered
to those groups, with a ``top_hits`` per group: collapsing's ``inner_hits`` runs the whole query
again once per listed story, which cost about twice the page's own search.
"""

from __future__ import annotations

import base64
from typing import Iterable, Iterator

from search.backends.base import MAX_DUPLICATES, BackendResult, StoredHit, summary
from search.backends.opensearch import dsl
from search.backends.opensearch.documents import listing, listing_request, stored_fields
from search.dedup import Deduper, Fingerprinter, day_of, decode_all, encode, ordinal_of
from search.model import LANGS, Article
from search.query import plan as qp

#: Stories are counted by HyperLogLog++ (OpenSearch's ``cardinality``): with this threshold (its
#: maximum, about 320 kB per shard and search) a count below 40,000 stories is exact but for
#: 64-bit hash collisions; above it the count is an estimate (typically within 1 or 2 %).
#: An exact count would be a ``terms`` aggregation listing every group of every search.
STORIES_PRECISION = 40_000
#: Partial matches scored this much lower than they score alone, so that every complete match
#: ranks first in the one collapsed query (a factor keeps float32 scores' relative precision:
#: an offset added to complete matches would round them off); shown scores are scaled back.
PARTIAL_SCALE = 1e-9
COMPLETE = "complete"  # the name of the primary in that query: which hits are complete matches
#: Versions listed for an article (Whoosh lists all of them: far more than any story has).
MAX_VERSIONS = 10_000
DATE_ORDER = [{"day": {"order": "desc"}}, {"_score": {"order": "desc"}}, {"id": {"order": "asc"}}]
VERSION_ORDER = [{"day": {"order": "asc"}}, {"id": {"order": "asc"}}]


# --- writing -------------------------------------------------------------------------------------


def load_deduper(client, index: str) -> Deduper:
    """The grouping state of every article the index holds, rebuilt from the stored signatures and
    cross-language features (by date, then id: an order that does not depend on shards)."""
    from opensearchpy import helpers

    rows = []
    query = {"query": {"exists": {"field": "dup_group"}}, "_source": ["id", "day", "dup_group", "dup_sig"]}
    for hit in helpers.scan(client, index=index, query=query, size=2000):
        source = hit["_source"]
        if source.get("dup_sig"):
            rows.append((int(source.get("day") or 0), source["id"], source.get("dup_group") or source["id"], source["dup_sig"]))
    rows.sort(key=lambda row: row[:2])
    deduper = Deduper()
    for day, article_id, group, sig in rows:
        found = decode_all(base64.b64decode(sig))
        if found is not None:
            deduper.load(article_id, found[0], group, ordinal_of(day), found[1])
    return deduper


class Grouper:
    """One indexing run's grouping: the state read from the index when the run starts, then one
    article at a time in add order, in the indexing process (groups depend on that order), with
    the fingerprints computed ahead by :class:`search.dedup.Fingerprinter` as on Whoosh."""

    def __init__(self, client, index: str, enabled: bool) -> None:
        self.client, self.index, self.enabled = client, index, enabled
        self._deduper: Deduper | None = None

    @property
    def deduper(self) -> Deduper | None:
        """Read from the index when the run first adds an article (a run that changes nothing
        does not read every article's signatures)."""
        if self._deduper is None and self.enabled:
            self._deduper = load_deduper(self.client, self.index)
        return self._deduper

    def grouped(self, items: list[tuple[Article, str]], sources: Iterable[dict], parallel: bool) -> Iterator[dict]:
        """The documents ``sources`` of ``items`` (in the same order) with their ``dup_group`` and
        ``dup_sig``; ``parallel``: fingerprints in a helper process. Grouping off, each article is
        its own group (field collapsing would put all articles without one in a single group)."""
        if self.deduper is None:
            for source in sources:
                yield {**source, "dup_group": source["id"]}
            return
        fingerprints = Fingerprinter(self.deduper.translations, parallel)
        try:
            for (article, _), source in zip(items, sources):
                for (ready, day), sigs, feats in fingerprints.push((source, day_of(article)), article):
                    yield self._place(ready, day, sigs, feats)
            for (ready, day), sigs, feats in fingerprints.drain():
                yield self._place(ready, day, sigs, feats)
        finally:
            fingerprints.close()

    def _place(self, source: dict, day: int | None, sigs, feats) -> dict:
        group = self.deduper.add(source["id"], sigs, day, feats)
        return {**source, "dup_group": group, "dup_sig": base64.b64encode(encode(sigs, feats)).decode("ascii")}


# --- searching -----------------------------------------------------------------------------------


def stories() -> dict:
    """The aggregation counting the groups of the matches (read with :func:`story_count`)."""
    return {"stories": {"cardinality": {"field": "dup_group", "precision_threshold": STORIES_PRECISION}}}


def story_count(answer: dict) -> int:
    return int(((answer.get("aggregations") or {}).get("stories") or {}).get("value") or 0)


def versions_search(matching: list[dict], groups: list[str], by_date: bool) -> dict:
    """The matching articles of ``groups`` (what ``matching`` and the filters select), per group:
    how many, and the first ones by date, then id, as listings (:func:`listing`). Date order shows
    a group's earliest article: its whole document comes with them. Nothing is scored: the
    versions are listed by date."""
    shown = {"_source": ["id", "day", "doc"]} if by_date else listing_request()
    return {
        "size": 0,
        "query": {"bool": {"filter": [*matching, {"terms": {"dup_group": groups}}]}},
        "aggs": {"groups": {"terms": {"field": "dup_group", "size": len(groups)},
                            "aggs": {"versions": {"top_hits": {"size": MAX_DUPLICATES + 1, "sort": VERSION_ORDER, **shown}}}}},
    }


def flat_versions_search(matching: list[dict], groups: list[str]) -> dict:
    """:func:`versions_search` by relevance as one list: the matching articles of ``groups``
    sorted by group, then date, then id, doc values only. One fetch for the whole list instead of
    one per group (a ``top_hits`` each): on the 4x corpus the node took 1.6 ms per search against
    2.05 ms. Complete when ``total`` fits the list (:func:`flat_members`)."""
    return {
        "size": len(groups) * (MAX_DUPLICATES + 1),
        "track_total_hits": True,
        "query": {"bool": {"filter": [*matching, {"terms": {"dup_group": groups}}]}},
        "sort": [{"dup_group": {"order": "asc"}}, *VERSION_ORDER],
        **listing_request(),
    }


def flat_members(answer: dict) -> dict[str, dict] | None:
    """Per group, :func:`flat_versions_search`'s answer as ``top_hits`` would give it (the first
    versions and how many match); ``None`` when the list does not hold every match."""
    listed = answer["hits"]["hits"]
    if int(answer["hits"]["total"]["value"]) > len(listed):
        return None
    members: dict[str, list[dict]] = {}
    for hit in listed:
        members.setdefault(hit["sort"][0], []).append(hit)
    return {group: {"hits": hits[: MAX_DUPLICATES + 1], "total": {"value": len(hits)}} for group, hits in members.items()}


def complete_first(primary: qp.Node, fallback: qp.Node, by_date: bool) -> dict:
    """Every match, complete matches first: by relevance, each scored as the primary scores it
    (partial ones as the fallback does, :data:`PARTIAL_SCALE` lower); by date, as two classes
    (1 and ``PARTIAL_SCALE``) for the sort to put first."""
    if by_date:
        parts = [{"constant_score": {"filter": dsl.compile_node(primary), "boost": 1.0}},
                 {"constant_score": {"filter": dsl.compile_node(fallback), "boost": PARTIAL_SCALE}}]
    else:
        parts = [{"bool": {"must": [dsl.compile_node(primary)], "_name": COMPLETE}},
                 {"bool": {"must": [dsl.compile_node(fallback)], "boost": PARTIAL_SCALE}}]
    return {"dis_max": {"queries": parts}}


def collapsed_page(view, request, max_facet_values: int) -> BackendResult:
    """One page of stories (``request.offset``/``size`` count stories) with the counts and facets
    (facets count complete matches), then the listed stories' versions.

    With partial matches possible (a fallback) and by relevance, the first ``msearch`` is the
    complete matches' page alone, with their facets, and every match counted without scores (with
    the story count). Most pages are filled by complete matches: the partial ones are then never
    scored or collapsed, which took a third of the node's time for a query of two common words
    (the union of their articles scored to rank the complete ones first). A page that the complete
    stories do not fill is asked again as :func:`complete_first` orders it."""
    filters = dsl.filter_clauses(request.filters, request.speaker_ids)
    by_date = request.filters.sort == "date"
    primary, fallback = request.plan.primary, request.plan.fallback
    facets = dsl.facet_aggregations(max_facet_values) if request.facets else {}
    base: dict = {
        "from": request.offset,
        "size": request.size,
        "track_total_hits": True,
        "_source": ["id", "doc"],
        "collapse": {"field": "dup_group"},
    }
    compiled = dsl.compile_node(primary)
    # What the page's stories list as versions: the articles either part matches, within the filters.
    either = compiled if fallback is None else {"bool": {"should": [compiled, dsl.compile_node(fallback)], "minimum_should_match": 1}}
    scaled = False
    if fallback is None:
        page = {**base, "query": dsl.within(compiled, filters), "aggs": {**stories(), **facets}}
        if by_date:
            page.update(sort=DATE_ORDER, track_scores=True)
        first = counted = every = view._msearch([page])[0]
        listed = first["hits"]["hits"]
    elif not by_date:
        page = {**base, "query": dsl.within(compiled, filters), **({"aggs": facets} if facets else {})}
        count = {"size": 0, "track_total_hits": True, "query": {"bool": {"filter": [either, *filters]}}, "aggs": stories()}
        first, every = view._msearch([page, count])
        counted = first
        listed = first["hits"]["hits"]
        if len(listed) < request.size and int(every["hits"]["total"]["value"]) > int(first["hits"]["total"]["value"]):
            mixed = {**base, "track_total_hits": False, "query": dsl.within(complete_first(primary, fallback, False), filters)}
            listed, scaled = view._msearch([mixed])[0]["hits"]["hits"], True
    else:
        page = {**base, "aggs": stories(), "sort": [{"_score": {"order": "desc"}}, *DATE_ORDER[:1], DATE_ORDER[2]],
                "query": dsl.within(complete_first(primary, fallback, True), filters)}
        count = {"query": dsl.within(compiled, filters), "size": 0, "track_total_hits": True, **({"aggs": facets} if facets else {})}
        first, counted = view._msearch([page, count])
        every = first  # the page counts every match and its stories
        listed = first["hits"]["hits"]
    matches = int(every["hits"]["total"]["value"])
    complete = int(counted["hits"]["total"]["value"])
    # The facets count the complete matches; their days, if the timeline shows days, are asked
    # with the versions.
    day_search = view.day_search(counted.get("aggregations"), dsl.within(compiled, filters)) if request.facets else None
    days = None
    members: dict[str, dict] = {}
    if listed:
        groups = list(dict.fromkeys(hit["fields"]["dup_group"][0] for hit in listed))
        matching = [either, *filters]
        ask = versions_search(matching, groups, by_date) if by_date else flat_versions_search(matching, groups)
        found, *days = view._msearch([ask, *filter(None, [day_search])])
        members = None if by_date else flat_members(found)
        if members is None:
            if not by_date:  # more matching versions than one list holds: asked per group
                found = view._msearch([versions_search(matching, groups, by_date)])[0]
            members = {bucket["key"]: bucket["versions"]["hits"] for bucket in found["aggregations"]["groups"]["buckets"]}
    elif day_search:
        days = view._msearch([day_search])
    hits = [_collapsed_hit(view, hit, members.get(hit["fields"]["dup_group"][0]), by_date, scaled) for hit in listed]
    if fallback is not None and by_date:  # the two classes of complete_first: 1 and PARTIAL_SCALE
        for hit, stored in zip(listed, hits):
            stored.complete = float(hit.get("_score") or 0.0) >= 1.0
    found = view._facets(counted.get("aggregations"), days[0] if days else None) if request.facets else {}
    return BackendResult(complete, hits, found, groups=story_count(every), partial=matches - complete)


def _collapsed_hit(view, hit: dict, inner: dict | None, by_date: bool, scaled: bool) -> StoredHit:
    """The hit standing for a group, with the group's other matching articles (``inner``: the
    ``top_hits`` of its group). By date the group's earliest article stands for it (undated ones
    last; ties: the smaller id), at the place of its newest, as on Whoosh."""
    # A group missing from the versions (the index changed between the two searches) lists none.
    inner = inner or {"hits": [], "total": {"value": 1}}
    members = inner["hits"]
    shown = hit
    if by_date and members:
        earliest = min(members, key=lambda m: (int(m["_source"].get("day") or 0) or 99_999_999, m["_source"]["id"]))
        shown = {**earliest, "_score": hit.get("_score")}
    stored = view._hit(shown)
    if scaled and COMPLETE not in (hit.get("matched_queries") or ()):
        stored.score /= PARTIAL_SCALE
        stored.complete = False
    own = shown["_source"]["id"]
    listed = (stored_fields(m["_source"]) for m in members) if by_date else map(listing, members)
    stored.duplicates = [summary(fields) for fields in listed if fields["id"] != own][:MAX_DUPLICATES]
    stored.duplicate_count = max(0, int(inner["total"]["value"]) - 1)
    return stored


# --- similar articles ----------------------------------------------------------------------------


def similar(view, article_id: str, limit: int) -> dict | None:
    """Its group's other articles, and stories ranked by more-like-this over its distinctive terms
    (:mod:`search.similar`, the Whoosh backend's selection) outside its group."""
    from search.backends.opensearch.backend import translated_errors

    backend = view.backend
    with translated_errors(backend.config):
        found = backend.client.get(index=backend.index, id=article_id, _source_includes=["id", "dup_group", "doc"], ignore=[404])
    if not found.get("found"):
        return None
    source = found["_source"]
    doc = source.get("doc") or {}
    group = source.get("dup_group") or article_id
    terms = _distinctive_terms(view, {lang: (doc.get(f"title_{lang}") or "", doc.get(f"body_{lang}") or "") for lang in LANGS})
    others = {"bool": {"filter": [{"term": {"dup_group": group}}], "must_not": [{"term": {"id": article_id}}]}}
    searches = [{"query": others, "size": MAX_VERSIONS, "sort": VERSION_ORDER, **listing_request()}]
    if terms and limit > 0:
        like = qp.Any(tuple(qp.Term(f"{part}_{t.lang}", t.term, boost=t.weight) for t in terms for part in ("title", "body")))
        outside = [{"term": {"id": article_id}}, {"term": {"dup_group": group}}]
        searches.append({"query": {"bool": {"must": [dsl.compile_node(like)], "must_not": outside}}, "size": limit, **listing_request()})
    answers = view._msearch(searches)
    related = answers[1]["hits"]["hits"] if len(answers) > 1 else []
    return {
        "id": article_id,
        "versions": [summary(listing(hit)) for hit in answers[0]["hits"]["hits"]],
        "related": [{**summary(listing(hit)), "score": round(float(hit["_score"] or 0.0), 4)} for hit in related],
    }


def _distinctive_terms(view, texts: dict[str, tuple[str, str]]):
    """:func:`search.similar.distinctive_terms` with the document frequencies fetched in rounds
    (the article's terms, then their translations): one request each."""
    from search.similar import distinctive_terms

    known: dict[tuple[str, str], int] = {}
    for _ in range(3):
        asked: set[tuple[str, str]] = set()

        def doc_frequency(lang: str, term: str) -> int:
            pairs = [(f"body_{lang}", term), (f"title_{lang}", term)]
            missing = [pair for pair in pairs if pair not in known]
            if missing:
                asked.update(missing)
                return 0  # not known yet: left out this round
            return max(known[pair] for pair in pairs)

        terms = distinctive_terms(texts, doc_frequency, max(1, view.doc_count))
        if not asked:
            return terms
        known.update(view.frequencies(sorted(asked)))
    return terms


__all__ = ["Grouper", "collapsed_page", "load_deduper", "similar", "stories", "story_count"]
