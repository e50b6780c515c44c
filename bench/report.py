"""Print the README's "Benchmarks" section (markdown) from the JSON results.

    python -m bench.report [--results bench/results] [--limit-runs]

Reads ``indexing.json``, ``queries.json`` and ``quality.json`` (``--limit-runs``:
the ``*-limit.json`` files of quick runs); a missing file leaves its part out.
Prints to stdout; nothing is edited.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.common import RESULTS

NAMES = {
    "project": "**this project**",
    "project_1proc": "**this project**, one process",
    "engine": "**this project**",
    "whoosh_jieba": "Whoosh + jieba `ChineseAnalyzer`",
    "cjk_bigram": "Whoosh + CJK bigrams (Lucene `CJKAnalyzer` style)",
    "fts5": "SQLite FTS5 + jieba pre-tokenized",
    "tantivy": "tantivy + jieba pre-tokenized",
}
SET_NAMES = {
    "drcd": "DRCD dev, traditional questions",
    "drcd-hans": "DRCD dev, questions converted to simplified",
    "cmrc-dev": "CMRC 2018 dev (simplified)",
    "cmrc-dev-hant": "CMRC 2018 dev, questions converted to traditional",
    "cmrc-trial": "CMRC 2018 trial (simplified)",
}
KIND_NAMES = {"zh_hans": "简体 word", "zh_hant": "繁體 word", "en": "English word", "two_word": "two words", "phrase": '"phrase"'}


def _load(folder: Path, name: str, limit_runs: bool) -> dict | None:
    path = folder / (f"{name}-limit.json" if limit_runs else f"{name}.json")
    return json.loads(path.read_text("utf-8")) if path.is_file() else None


def _machine(report: dict) -> str:
    m = report.get("machine")
    if isinstance(m, str):
        return m
    text = f"{m.get('cpu')}, {m.get('cores')} cores, {m.get('memory_gb')} GB, {m.get('os')}, Python {m.get('python')}"
    if m.get("load_avg_at_start"):
        text += f" (load average {m['load_avg_at_start'][0]} at the start)"
    if m.get("python_probe_ms"):
        text += f"; speed probe {m['python_probe_ms']} ms of CPU, steal {m.get('steal_share', 0):.1%}"
    return text


def _ms(v: float) -> str:
    return f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def _n(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def _x(ratio: float) -> str:
    return f"{ratio:.2f}×"


def indexing_section(r: dict) -> list[str]:
    inp = r["input"]
    out = [
        "### Indexing",
        "",
        f"`{r['command']}` — {', '.join(inp['files'])}: {inp['articles']:,} articles, {inp['mb']} MB of JSON Lines. "
        f"Each system in its own process, one after the other; {_machine(r)}; {r['date']}.",
        "",
        "| system | articles/s | MB/s | time | start-up | index size | peak RSS (largest process) | memory, all processes (PSS) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in r["results"].items():
        out.append(
            f"| {NAMES.get(name, name)} | {_n(s['docs_per_s'])} | {s['mb_per_s']:.2f} | {s['seconds']:.1f} s | "
            f"{s.get('startup_s', float('nan')):.1f} s | {s['index_mb']:.0f} MB | {s['peak_rss_mb']:.0f} MB | {s['peak_tree_pss_mb']:.0f} MB |"
        )
    ratio = r.get("ratios", {}).get("project/whoosh_jieba")
    if ratio:
        out += [
            "",
            f"This project ÷ Whoosh + jieba: **{_x(ratio['docs_per_s'])} the indexing speed**, "
            f"{_x(ratio['index_mb'])} the index size, {_x(ratio['peak_rss_mb'])} the peak RSS of the largest process, "
            f"{_x(ratio['peak_tree_pss_mb'])} the total memory (the project writes with 2 worker processes).",
        ]
    single = r.get("ratios", {}).get("project_1proc/whoosh_jieba")
    if single:
        out[-1] += (
            f" In one process, like the baseline: {_x(single['docs_per_s'])} the speed, "
            f"{_x(single['peak_tree_pss_mb'])} the memory."
        )
    out += [
        "",
        "Each time is the whole command, from starting Python to the committed index (imports and "
        "dictionaries included); start-up is the same command on a one-article file. "
        "The project and Whoosh + jieba store the original text; FTS5 and tantivy store the tokenized text.",
        "",
    ]
    return out


def queries_section(r: dict) -> list[str]:
    sample = r["sample"]
    kinds = ", ".join(f"{n} {KIND_NAMES.get(k, k)}" for k, n in sample["kinds"].items())
    out = [
        "### Query latency",
        "",
        f"`{r['command']}` — {sample['queries']:,} queries sampled from the article titles (seed {sample['seed']}): {kinds}; "
        f"over the same two corpora ({r['corpus']['mb']} MB). In-process, one thread, after 50 warm-up queries (without the server's warm-up, `Engine.warm()`); "
        f"{_machine(r)}; {r['date']}.",
        "",
        "| system | what is returned | p50 ms | p95 ms | p99 ms | queries/s | queries with a hit |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    what = {
        ("engine", "full"): "10 hits, highlighted snippets, facets (as the API)",
        ("engine", "bare"): "10 hit ids",
        ("whoosh_jieba", "full"): "10 hits, `hit.highlights()`",
        ("whoosh_jieba", "bare"): "10 hit ids",
        ("fts5", "full"): "10 hits, `snippet()`",
        ("fts5", "bare"): "10 hit ids",
    }
    for name, s in r["in_process"].items():
        for mode in ("full", "bare"):
            m = s.get(mode)
            if not m:
                continue
            out.append(
                f"| {NAMES.get(name, name)} | {what.get((name, mode), mode)} | {_ms(m['p50_ms'])} | {_ms(m['p95_ms'])} | "
                f"{_ms(m['p99_ms'])} | {_n(m['qps'])} | {m['with_hits']:.0%} |"
            )
    kinds_order = list(sample["kinds"])
    out += [
        "",
        "Share of queries finding anything, and p50 latency (ms, with snippets), by kind of query:",
        "",
        "| system | " + " | ".join(KIND_NAMES.get(k, k) for k in kinds_order) + " |",
        "|---|" + "---:|" * len(kinds_order),
    ]
    for name, s in r["in_process"].items():
        by = s["full"]["by_kind"]
        cells = [f"{by[k]['with_hits']:.0%} · {_ms(by[k]['p50_ms'])}" if k in by else "–" for k in kinds_order]
        out.append(f"| {NAMES.get(name, name)} | " + " | ".join(cells) + " |")
    runs = r.get("http_by_workers") or ({str(r["http"].get("workers", 1)): r["http"]} if r.get("http") else {})
    if runs:
        out += [
            "",
            "Over HTTP: `python -m search serve --workers N` (waitress, one request at a time per process, warmed up before it listens) on 127.0.0.1; "
            f"`GET /api/search?q=…&size=10` (snippets and facets), the same {sample['queries']:,} queries, "
            "client threads on the same machine with keep-alive connections.",
            "",
            "| server processes | client threads | p50 ms | p95 ms | p99 ms | requests/s | errors | server memory (PSS) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for workers, http in runs.items():
            held = http.get("server_pss_mb", http.get("server_uss_mb"))
            memory = f"{held:.0f} MB" if held is not None else "–"
            for key, m in http.items():
                if key.startswith("threads_"):
                    out.append(
                        f"| {workers} | {m['threads']} | {_ms(m['p50_ms'])} | {_ms(m['p95_ms'])} | {_ms(m['p99_ms'])} | "
                        f"{_n(m['qps'])} | {m['errors']} | {memory} |"
                    )
        out += ["", "PSS sums the memory of all the server's processes, measured after the run, with the pages "
                "they share (what the parent loaded before forking, the memory-mapped index as far as it was "
                "read) counted once; the server warmed up before listening (it reads the posting lists and "
                "positions of common words into memory)."]
    out.append("")
    return out


def quality_section(r: dict) -> list[str]:
    systems = [s for s in ("engine", "whoosh_jieba", "cjk_bigram") if any(s in v for v in r["results"].values())]
    head = " | ".join(f"{NAMES[s]} MRR@10 | S@10" for s in systems)
    out = [
        "### Retrieval quality",
        "",
        f"`{r['command']}` — each question's relevant document is the paragraph holding its answer; "
        f"baselines in the same run over the same paragraphs ({r['date']}). "
        "The project's index is written by one process (one segment), so the ranking is the same on every run. "
        "Whoosh baselines: one TEXT field, BM25F defaults, `QueryParser` with `OrGroup`. "
        "MRR@10 and S@10 (Success@10: the paragraph among the first 10 hits) as trec_eval computes them (`ir-measures`).",
        "",
        f"| set | questions | {head} |",
        "|---|---:|" + "---:|---:|" * len(systems),
    ]
    for name, by_system in r["results"].items():
        cells = []
        for s in systems:
            m = by_system.get(s)
            # Results written before 2026-11-27 call Success@10 "recall@10" (what it computed).
            cells += [f"{m['mrr@10']:.4f}", f"{m.get('success@10', m.get('recall@10')):.3f}"] if m else ["–", "–"]
        if cells and by_system.get("engine"):
            cells[0], cells[1] = f"**{cells[0]}**", f"**{cells[1]}**"
        queries = next(iter(by_system.values()))["queries"]
        out.append(f"| {SET_NAMES.get(name, name)} | {queries:,} | " + " | ".join(cells) + " |")
    errors = {name: by["engine"]["errors"] for name, by in r["results"].items() if by.get("engine", {}).get("errors")}
    if errors:
        out += ["", "Questions on which the engine raised an error (counted as misses): "
                + ", ".join(f"{SET_NAMES.get(k, k)}: {v}" for k, v in errors.items()) + "."]
    out += ["", "Regression check against `bench/expected.json`: `python -m bench.check` (fast subset), `--full`, or `--results FILE`.", ""]
    return out


def render(folder: Path = RESULTS, limit_runs: bool = False) -> str:
    lines = ["## Benchmarks", ""]
    indexing = _load(folder, "indexing", limit_runs)
    queries = _load(folder, "queries", limit_runs)
    quality = _load(folder, "quality", False)
    if indexing or queries:
        lines += [
            "Speed is measured against the usual setups, in the same run on the same machine "
            "(a 2-core machine shared with other work: compare the rows of one table, not runs). "
            "Reproduce with the commands shown; results are in `bench/results/`.",
            "",
        ]
    if indexing:
        lines += indexing_section(indexing)
    if queries:
        lines += queries_section(queries)
    if quality:
        lines += quality_section(quality)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", default=str(RESULTS), help="folder with the JSON results")
    parser.add_argument("--limit-runs", action="store_true", help="use the *-limit.json files of quick runs")
    args = parser.parse_args(argv)
    print(render(Path(args.results), args.limit_runs), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
