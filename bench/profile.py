"""Where the project spends its time: cProfile of indexing and of queries, summed by area.

    python -m bench.profile indexing [--limit 2000]
    python -m bench.profile queries  [--limit 2000] [--queries 300] [--workdir DIR]   (--limit 0: whole corpora)

``indexing`` runs ``Indexer`` with one process (``procs=1``) so that all the work is
visible to the profiler. ``queries`` runs ``Engine.search`` as the API calls it
(snippets and facets) and with ``highlight=False, facets=False``. Prints the time per
area (analysis, Whoosh writing/searching, snippets, ingest…) and the top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
from collections import defaultdict
from pathlib import Path

from bench.common import limited_copies, news_paths

AREAS = (
    ("search/analysis/segment", "jieba segmentation (rjieba)"),
    ("search/analysis/convert", "OpenCC t2s"),
    ("search/analysis/scripts", "script runs / NFKC"),
    ("search/analysis/english", "English stemming"),
    ("search/analysis", "analysis pipeline (other)"),
    ("search/highlight", "snippets (re-analysis of hit text)"),
    ("search/query", "query parsing / planning"),
    ("search/ingest", "ingest (decode, JSONL, dates)"),
    ("search/indexer", "indexer (hashing, documents)"),
    ("search/searcher", "searcher (facets, hits)"),
    ("whoosh/writing", "Whoosh writer"),
    ("whoosh/codec", "Whoosh codec (postings, stored fields)"),
    ("whoosh/matching", "Whoosh matchers"),
    ("whoosh/searching", "Whoosh searcher / collectors"),
    ("whoosh/", "Whoosh (other)"),
    ("json/", "json"),
)


def by_area(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Own (tottime) seconds summed per area of the code."""
    totals: dict[str, float] = defaultdict(float)
    for (filename, _, name), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        area = "other (builtins, C extensions, stdlib)"
        path = filename.replace("\\", "/")
        for prefix, label in AREAS:
            if prefix in path:
                area = label
                break
        if area.startswith("other") and name.startswith("<built-in method rjieba"):
            area = "jieba segmentation (rjieba)"
        if area.startswith("other") and "opencc" in name.lower():
            area = "OpenCC t2s"
        totals[area] += tottime
    return sorted(totals.items(), key=lambda kv: -kv[1])


def report(profiler: cProfile.Profile, title: str, top: int = 25) -> None:
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    total = sum(v for _, v in by_area(stats)) or 1.0
    print(f"## {title}: {total:.2f} s profiled\n")
    for area, seconds in by_area(stats):
        print(f"  {seconds:7.2f} s  {100 * seconds / total:5.1f} %  {area}")
    stats.sort_stats("tottime").print_stats(top)
    print("\n".join(line for line in stream.getvalue().splitlines() if line.strip())[:12000])
    stream.seek(0)
    stream.truncate()
    print("\nthe project's own functions, by cumulative time:")
    stats.sort_stats("cumulative").print_stats(r"/search/", top)
    print("\n".join(line for line in stream.getvalue().splitlines() if line.strip() and "/search/" in line)[:8000])
    print()


def profile_indexing(limit: int | None, workdir: Path) -> None:
    from search.analysis import analyze
    from search.indexer import Indexer

    inputs, _ = limited_copies(news_paths(), limit, workdir / "input")
    list(analyze("中俄關係 warm"))
    profiler = cProfile.Profile()
    profiler.enable()
    Indexer(str(workdir / "index-profile"), procs=1).run([str(p) for p in inputs])
    profiler.disable()
    report(profiler, f"indexing {limit or 'all'} articles per corpus with procs=1")


def profile_queries(limit: int | None, count: int, workdir: Path) -> None:
    from bench.indexing import index_location, index_ready
    from bench.queries import sample_queries
    from search.indexer import Indexer
    from search.searcher import Engine

    inputs, _ = limited_copies(news_paths(), limit, workdir / f"input-limit{limit}")
    index = index_location(workdir, "project", limit)
    if not index_ready(workdir, "project", limit):
        Indexer(str(index)).run([str(p) for p in inputs])
    queries = [q["q"] for q in sample_queries(inputs, count, 20241022)]
    engine = Engine(str(index))
    for q in queries[:20]:
        engine.search(q, size=10, facets=False)
    for label, kwargs in (("as the API (snippets, facets)", {}), ("ids only", {"highlight": False, "facets": False})):
        profiler = cProfile.Profile()
        failures = 0
        profiler.enable()
        for q in queries:
            try:
                engine.search(q, size=10, **kwargs)
            except Exception:  # noqa: BLE001 - counted, see the report
                failures += 1
        profiler.disable()
        report(profiler, f"{len(queries)} queries, {label}; {failures} raised")
    engine.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("indexing", "queries"))
    parser.add_argument("--limit", type=int, default=2000, help="articles per corpus (default 2000; 0: all)")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--workdir", default=None, help="reuse indexes from bench.indexing --workdir DIR (same --limit)")
    args = parser.parse_args(argv)
    args.limit = args.limit or None
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        workdir = Path(args.workdir).resolve() if args.workdir else Path(tmp)
        if args.what == "indexing":
            profile_indexing(args.limit, Path(tmp))
        else:
            profile_queries(args.limit, args.queries, workdir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
