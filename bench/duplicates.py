"""Near-duplicate grouping: pair precision and recall on labelled pairs, and what it costs to index.

    python -m bench.duplicates [--only quality|throughput|queries] [--rounds N] [--index DIR] [--limit N]
                               [--opensearch URL --opensearch-index NAME]

- **quality**: groups the whole news corpus (``xwlb.jsonl`` + ``reuters21578.jsonl``, in file
  order, as the indexer would) plus the copies the labels refer to (traditional copies made
  with OpenCC ``s2tw``, WMT21 documents split into a Chinese and an English article), then
  scores the labelled pairs of ``tests/data/duplicates_pairs.jsonl`` (see
  ``tests/data/DUPLICATES_GUIDELINES.md``): a pair is predicted duplicate when both articles
  are in one group. Precision, recall and F1 overall, per kind of pair, and cross-language
  apart: its dev half (WMT21 zh→en documents, on which ``search/crosslink.py``'s threshold
  was chosen) and its test half (WMT21 en→zh, English originals). The grouping is timed with
  and without the cross-language link (same run, same articles: what the link costs).
- **throughput**: indexes the same corpus with the indexer's defaults with and without
  grouping (``bench.indexing``'s ``indexer_dedup`` and ``indexer_nodedup``: the indexer in one command), alternating
  ``--rounds`` times (ABBA…) in one run, and reports the throughput ratio.

- **queries**: query latency with collapsing on and off, the same queries (``bench.queries``'
  sample) alternating in one process: ``Engine.search`` as the API calls it, on ``--index DIR``
  or on an index of the first ``--limit`` articles of each corpus built for the run. With
  ``--opensearch URL --opensearch-index NAME`` (an index the project's indexer built), the same on
  that OpenSearch index, in blocks of all queries per setting alternated ``--rounds`` times (after
  50 warm-up queries each, and each query run once before the first block): wall time, the Python
  process's CPU and the nodes' CPU (their ``_nodes/stats``) per search.

Results: ``bench/results/duplicates.json`` (a part run alone keeps the other's last figures).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.common import RESULTS, header, iter_records, news_paths, versions
from search import crosslink, dedup
from search.model import Article

RESULT = RESULTS / "duplicates.json"


def quality() -> dict:
    from tests.data.make_duplicates_sample import PAIRS, derived_articles, news_articles

    pairs = [json.loads(line) for line in PAIRS.read_text("utf-8").splitlines() if line.strip()]
    articles: list[Article] = news_articles()
    articles += derived_articles(pairs, {a.id: a for a in articles})
    started = time.perf_counter()
    dedup.group_all(articles, translations=False)
    within_seconds = time.perf_counter() - started
    started = time.perf_counter()
    groups = dedup.group_all(articles, translations=True)
    seconds = time.perf_counter() - started
    by_kind: dict[str, dict[str, int]] = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0, "tn": 0})
    errors = []
    for pair in pairs:
        predicted = groups[pair["a"]] == groups[pair["b"]]
        actual = pair["label"] == "duplicate"
        key = {(True, True): "tp", (True, False): "fp", (False, True): "fn", (False, False): "tn"}[(predicted, actual)]
        by_kind[pair["kind"]][key] += 1
        if predicted != actual:
            errors.append({"a": pair["a"], "b": pair["b"], "kind": pair["kind"], "label": pair["label"]})
    cross = {k: v for k, v in by_kind.items() if k.startswith("cross-language")}
    splits: dict[str, dict[str, int]] = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0, "tn": 0})
    for pair in pairs:
        if pair["kind"].startswith("cross-language"):
            split = "dev" if pair["a"].startswith("wmt21-zh-en-") else "test"
            predicted, actual = groups[pair["a"]] == groups[pair["b"]], pair["label"] == "duplicate"
            splits[split][{(True, True): "tp", (True, False): "fp", (False, True): "fn", (False, False): "tn"}[(predicted, actual)]] += 1
    within = {k: v for k, v in by_kind.items() if not k.startswith("cross-language")}
    return {
        "pairs": len(pairs),
        "duplicates": sum(p["label"] == "duplicate" for p in pairs),
        "different": sum(p["label"] == "different" for p in pairs),
        "articles_grouped": len(articles),
        "grouping_seconds": round(seconds, 1),
        "grouping_seconds_without_cross_language": round(within_seconds, 1),
        "within_language": _scores(within.values()),
        "cross_language": _scores(cross.values()),
        "cross_language_dev": {**splits["dev"], **_scores([splits["dev"]])},
        "cross_language_test": {**splits["test"], **_scores([splits["test"]])},
        "by_kind": {kind: {**counts, **_scores([counts])} for kind, counts in sorted(by_kind.items())},
        "errors": errors[:50],
        "settings": {"num_perm": dedup.NUM_PERM, "seed": dedup.SEED, "shingle": dedup.SHINGLE, "lsh_threshold": dedup.LSH_THRESHOLD,
                     "verify": dedup.VERIFY, "date_window_days": dedup.DATE_WINDOW, "min_shingles": dedup.MIN_SHINGLES,
                     "cross_threshold": crosslink.THRESHOLD, "cross_min_shared": crosslink.MIN_SHARED, "cross_glosses": crosslink.GLOSSES},
    }


def _scores(counts) -> dict:
    tp = sum(c["tp"] for c in counts)
    fp = sum(c["fp"] for c in counts)
    fn = sum(c["fn"] for c in counts)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else None
    return {"precision": _round(precision), "recall": _round(recall), "f1": _round(f1), "tp": tp, "fp": fp, "fn": fn}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def throughput(rounds: int) -> dict:
    from bench.indexing import alternate

    return alternate("indexer_nodedup", "indexer_dedup", rounds, target=0.15)


def query_latency(index: str | None, limit: int, count: int) -> dict:
    from bench.common import limited_copies
    from bench.queries import SEED as QUERY_SEED
    from bench.queries import sample_queries
    from search.filters import SearchFilters
    from search.indexer import Indexer
    from search.searcher import Engine

    with tempfile.TemporaryDirectory(prefix="bench-duplicates-q-") as work:
        if index is None:
            inputs, _ = limited_copies(news_paths(), limit, Path(work) / "input")
            index = str(Path(work) / "index")
            Indexer(index).run([str(p) for p in inputs])
        queries = [item["q"] for item in sample_queries(news_paths(), count, QUERY_SEED)]
        engine = Engine(index)
        engine.warm()
        settings = {"collapse": SearchFilters(), "no_collapse": SearchFilters(collapse=False)}
        times: dict[str, list[float]] = {name: [] for name in settings}
        for n, q in enumerate(queries):
            names = list(settings) if n % 2 == 0 else list(settings)[::-1]
            for name in names:
                started = time.perf_counter()
                engine.search(q, size=10, filters=settings[name])
                times[name].append((time.perf_counter() - started) * 1000)
        articles = engine.count()
        engine.close()
    out = {"index_articles": articles, "queries": len(queries)}
    for name, found in times.items():
        found.sort()
        out[name] = {f"p{p}_ms": round(found[min(len(found) - 1, int(len(found) * p / 100))], 1) for p in (50, 95, 99)}
    out["p99_ratio"] = round(out["collapse"]["p99_ms"] / out["no_collapse"]["p99_ms"], 3)
    return out


def opensearch_latency(url: str, index: str, count: int, rounds: int) -> dict:
    from bench.queries import SEED as QUERY_SEED
    from bench.queries import sample_queries
    from search.backends.base import BackendConfig
    from search.filters import SearchFilters
    from search.searcher import Engine

    queries = [item["q"] for item in sample_queries(news_paths(), count + 50, QUERY_SEED)]
    warmup, queries = queries[:50], queries[50:]
    engine = Engine(config=BackendConfig(backend="opensearch", urls=(url,), index_name=index))
    client = engine.backend.client

    def node_cpu_ms() -> int:
        nodes = client.nodes.stats(metric="process")["nodes"].values()
        return sum(int(node["process"]["cpu"]["total_in_millis"]) for node in nodes)

    settings = {f"{name}_{sort}": SearchFilters(sort=sort, collapse=name == "collapse")
                for sort in ("relevance", "date") for name in ("collapse", "no_collapse")}
    out: dict = {"index": index, "index_articles": engine.count(), "queries": len(queries), "rounds": rounds}
    # Each query once first: what the engine remembers per query string (its analysis, the
    # term statistics asked of the cluster) is then the same for every block, whatever its place.
    for q in queries:
        engine.search(q, size=10, filters=SearchFilters(collapse=False))
    for round_ in range(rounds):
        for name, filters in (settings.items() if round_ % 2 == 0 else reversed(settings.items())):
            for q in warmup:
                engine.search(q, size=10, filters=filters)
            walls = []
            node0, cpu0 = node_cpu_ms(), time.process_time()
            for q in queries:
                started = time.perf_counter()
                engine.search(q, size=10, filters=filters)
                walls.append((time.perf_counter() - started) * 1000)
            node1, cpu1 = node_cpu_ms(), time.process_time()
            walls.sort()
            out.setdefault(name, []).append({
                **{f"p{p}_ms": round(walls[min(len(walls) - 1, int(len(walls) * p / 100))], 1) for p in (50, 99)},
                "python_cpu_ms": round((cpu1 - cpu0) * 1000 / len(queries), 2),
                "node_cpu_ms": round((node1 - node0) / len(queries), 2),
            })
    engine.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("quality", "throughput", "queries"), default=None)
    parser.add_argument("--index", default=None, help="queries: an existing index of the news corpus (else one of --limit articles per file is built)")
    parser.add_argument("--limit", type=int, default=5000, help="queries: articles per corpus file for the index built for the run (default 5000)")
    parser.add_argument("--queries", type=int, default=500, help="queries: how many (default 500)")
    parser.add_argument("--rounds", type=int, default=2, help="indexing runs (OpenSearch queries: blocks) per setting, alternated (default 2: A B B A)")
    parser.add_argument("--opensearch", metavar="URL", default=None, help="queries: on this OpenSearch node instead of a Whoosh index")
    parser.add_argument("--opensearch-index", metavar="NAME", default="news", help="queries: the OpenSearch index (default news)")
    args = parser.parse_args(argv)
    report = json.loads(RESULT.read_text("utf-8")) if RESULT.is_file() else {}
    report.update(header("python -m bench.duplicates"))
    report["versions"] = versions("numpy", "OpenCC", "Whoosh-Reloaded")
    report["input"] = {"files": [p.name for p in news_paths()], "articles": sum(1 for _ in iter_records(news_paths()))}
    if args.only in (None, "quality"):
        report["quality"] = quality()
        print(json.dumps({k: report["quality"][k] for k in ("within_language", "cross_language", "cross_language_dev", "cross_language_test",
                                                            "grouping_seconds", "grouping_seconds_without_cross_language")}), file=sys.stderr)
    if args.only in (None, "throughput"):
        report["throughput"] = throughput(max(1, args.rounds))
        print(json.dumps(report["throughput"]), file=sys.stderr)
    if args.only in (None, "queries"):
        if args.opensearch:
            report["queries_opensearch"] = opensearch_latency(args.opensearch, args.opensearch_index, args.queries, max(1, args.rounds))
            print(json.dumps(report["queries_opensearch"]), file=sys.stderr)
        else:
            report["queries"] = query_latency(args.index, args.limit, args.queries)
            print(json.dumps(report["queries"]), file=sys.stderr)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"wrote {RESULT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
