"""Run a query against the index: plan, filter, page, snippet.

One :class:`Engine` per index, shared by CLI and web. Whoosh searchers are
kept per thread and reopened only after a commit changed the index.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from whoosh import query as wq
from whoosh import scoring
from whoosh.searching import Searcher

from search.errors import NotFoundError, QueryError
from search.highlight import snippets, to_html
from search.model import LANGS, Hit, SearchResult
from search.query.build import plan
from search.query.parse import parse
from search.store import open_index

MAX_SIZE = 100
MAX_DEPTH = 10_000  # page * size: deeper paging is refused, not computed


@dataclass(frozen=True)
class Paging:
    page: int = 1
    size: int = 10

    @classmethod
    def checked(cls, page: object = 1, size: object = 10) -> "Paging":
        """Validate paging values from any source (CLI, API); raise :class:`QueryError`."""
        size_i = _as_int(size, "size")
        page_i = _as_int(page, "page")
        if not 1 <= size_i <= MAX_SIZE:
            raise QueryError(f"size must be between 1 and {MAX_SIZE}, got {size_i}", param="size")
        if page_i < 1:
            raise QueryError(f"page must be 1 or more, got {page_i}", param="page")
        if page_i * size_i > MAX_DEPTH:
            raise QueryError(f"page {page_i} is too deep: page × size may be at most {MAX_DEPTH}", param="page")
        return cls(page_i, size_i)


def _as_int(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise QueryError(f"{name} must be an integer", param=name)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit() and len(value.strip()) <= 9:
        return int(value.strip())
    raise QueryError(f"{name} must be an integer, got {str(value)[:40]!r}", param=name)


class Engine:
    """Search one index.

    >>> Engine("index").search("習近平").total  # doctest: +SKIP
    1
    """

    def __init__(self, index_dir: str) -> None:
        self.index_dir = index_dir
        self.ix = open_index(index_dir)
        self._local = threading.local()
        self._weighting = scoring.BM25F(B=0.75, K1=1.2)

    def searcher(self) -> Searcher:
        current = getattr(self._local, "searcher", None)
        if current is not None and not current.up_to_date():
            # A fresh searcher, not refresh(): Whoosh's reader reuse keeps the old
            # deletion sets, so replaced articles would still match.
            current.close()
            current = None
        if current is None:
            current = self.ix.searcher(weighting=self._weighting)
        self._local.searcher = current
        return current

    def close(self) -> None:
        current = getattr(self._local, "searcher", None)
        if current is not None:
            current.close()
            self._local.searcher = None

    def search(self, text: object, *, page: object = 1, size: object = 10, highlight: bool = True) -> SearchResult:
        """Run ``text`` (any script, any language, the query syntax) and return one page of hits.

        ``highlight=False`` skips snippets (evaluation and benchmarks need only ids).
        """
        if not isinstance(text, str):
            raise QueryError("q (the query text) is required", param="q")
        paging = Paging.checked(page, size)
        started = time.perf_counter()
        parsed = parse(text)
        s = self.searcher()
        reader = s.reader()
        the_plan = plan(parsed, text, lambda fieldname, term: (fieldname, term) in reader)
        offset = (paging.page - 1) * paging.size
        needed = offset + paging.size
        docnums: list[tuple[int, float]] = []
        total = 0
        if the_plan.primary is not None:
            first = s.search(the_plan.primary, limit=needed, terms=False)
            total = len(first)
            docnums = [(hit.docnum, hit.score) for hit in first]
            if the_plan.fallback is not None:
                if len(docnums) < needed:
                    # Query-level exclusion, not ``mask=``: Whoosh re-scans a mask bitset per document.
                    only_partial = wq.AndNot(the_plan.fallback, the_plan.primary)
                    rest = s.search(only_partial, limit=needed - len(docnums), terms=False)
                    total += len(rest)
                    docnums += [(hit.docnum, hit.score) for hit in rest]
                else:
                    # The page is full of complete matches: only the count of partial ones is needed.
                    total = sum(1 for _ in the_plan.fallback.docs(s))
        terms = the_plan.highlight if highlight else None
        hits = [self._hit(s, docnum, score, terms, the_plan.phrases) for docnum, score in docnums[offset:needed]]
        took = (time.perf_counter() - started) * 1000
        return SearchResult(
            query=text,
            interpreted=the_plan.interpretation,
            total=total,
            page=paging.page,
            size=paging.size,
            took_ms=took,
            hits=hits,
        )

    def _hit(self, s: Searcher, docnum: int, score: float, terms: set[str] | None, phrases: list[list[str]]) -> Hit:
        fields = s.stored_fields(docnum)
        found: dict[str, list[str]] = {lang: [] for lang in LANGS}
        for lang in LANGS if terms is not None else ():
            text = fields.get(f"body_{lang}") or fields.get(f"title_{lang}") or ""
            found[lang] = [to_html(snip) for snip in snippets(text, terms, phrases)] if text else []
        return Hit(
            id=fields["id"],
            title={lang: fields.get(f"title_{lang}") for lang in LANGS},
            date=fields.get("date_iso"),
            source=fields.get("source"),
            url=fields.get("url"),
            score=float(score),
            snippets=found,
        )

    def article(self, article_id: str) -> dict:
        """The stored fields of one article; :class:`NotFoundError` if there is none."""
        s = self.searcher()
        docnum = s.document_number(id=article_id)
        if docnum is None:
            raise NotFoundError(f"no article with id {article_id!r}", param="id")
        return dict(s.stored_fields(docnum))

    def count(self) -> int:
        return self.searcher().doc_count()
