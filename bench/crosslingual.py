"""Cross-language retrieval: English queries find Chinese documents and back, through the lexicon.

    python -m bench.crosslingual [--queries N] [--seed S] [--sets tatoeba wmt21 wmt22] [--out FILE]
    python -m bench.crosslingual --names INDEX   # names and regional forms on an existing index

Known-item retrieval with the project's real indexer and engine, translation
off (the baseline: only shared tokens such as names in Latin letters or
numbers can match) and on:

- **Tatoeba** (``tatoeba/cmn.txt``, CC-BY 2.0 FR): every distinct Chinese
  sentence is a document; a fixed-seed sample of English sentences are the
  queries (en→zh), each relevant to the Chinese sentences it is paired with.
  The reverse (zh→en) indexes the English sentences and queries with Chinese.
  Duplicated sentences are one document; a query with several translations
  has several relevant documents.
- **WMT21** (``wmt/wmt21/``), the development set for pasted headlines: the 101 zh→en
  documents whose headline ends in the outlet's name (``…生力军-新华网``), each found by that
  headline among the documents' English bodies (zh→en) or Chinese bodies (zh→zh), with the
  en→zh news in blocks of 10 lines as distractors.
- **WMT22** (``jsonl/wmt22-zh-en.jsonl``, held out: never tuned to): 139 bilingual news documents. Index
  the Chinese bodies only and query with the English titles (en→zh), and the
  reverse.

MRR@10, Success@10, Recall@10 and nDCG@10 via :mod:`bench.metrics` (trec_eval's definitions); results go to
``bench/results/crosslingual.json``.

``--names INDEX`` runs the names table (:data:`NAMES`) on an index you built
(the 38,637 CCTV + Reuters articles, say): each query (``Li Qiang``, ``普丁``,
``網路``…) against its counterpart (李强, 普京, 网络…), reporting both totals, how
many of the counterpart's top 10 the query's top 10 share, and how many of
the query's top 10 mark the counterpart's form. Results go to
``bench/results/names.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.datasets import CORPORA
from bench.metrics import score_runs
from search.filters import SearchFilters
from search.indexer import Indexer
from search.searcher import Engine

RESULTS = Path(__file__).with_name("results")
DEFAULT_QUERIES = 5000
DEFAULT_SEED = 20240601
SETS = ["tatoeba", "wmt21", "wmt22"]


class Task:
    """Documents (id → text, one language) and queries (text, relevant ids) of one direction."""

    def __init__(self, name: str, docs: dict[str, str], queries: list[tuple[str, set[str]]], titles: dict[str, str] | None = None) -> None:
        self.name = name
        self.docs = docs
        self.queries = queries
        self.titles = titles or {}


def tatoeba(n_queries: int, seed: int) -> list[Task]:
    pairs: list[tuple[str, str]] = []
    with open(CORPORA / "tatoeba" / "cmn.txt", encoding="utf-8-sig") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2 and parts[0].strip() and parts[1].strip():
                pairs.append((parts[0].strip(), parts[1].strip()))
    tasks = []
    for name, q_side, d_side in (("tatoeba en→zh", 0, 1), ("tatoeba zh→en", 1, 0)):
        doc_id: dict[str, str] = {}
        for pair in pairs:
            doc_id.setdefault(pair[d_side], f"d{len(doc_id)}")
        relevant: dict[str, set[str]] = {}
        for pair in pairs:
            relevant.setdefault(pair[q_side], set()).add(doc_id[pair[d_side]])
        texts = sorted(relevant)
        sample = random.Random(seed).sample(texts, min(n_queries, len(texts)))
        tasks.append(Task(name, {i: t for t, i in doc_id.items()}, [(q, relevant[q]) for q in sample]))
    return tasks


def wmt22() -> list[Task]:
    records = [json.loads(line) for line in (CORPORA / "jsonl" / "wmt22-zh-en.jsonl").read_text("utf-8").splitlines() if line.strip()]
    tasks = []
    for name, q_lang, d_lang in (("wmt22 en→zh", "en", "zh"), ("wmt22 zh→en", "zh", "en")):
        docs = {r["id"]: r["body"][d_lang] for r in records if r["body"].get(d_lang)}
        queries = [(r["title"][q_lang], {r["id"]}) for r in records if r["title"].get(q_lang) and r["id"] in docs]
        tasks.append(Task(name, docs, queries))
    return tasks


#: A WMT21 zh→en line that ends in a site name (``…生力军-新华网``, ``… - 中新网``) is the
#: headline of a document; the document runs to the next such line.
_HEADLINE = re.compile(r"[-_|—] ?[^ \-_|—]{2,8}(网|在线|新闻|日报|报)$")


def wmt21() -> list[Task]:
    """Pasted headlines, outlet name included (the development set for WMT22's titles): each of
    the 101 WMT21 zh→en documents with such a headline, found by it among the documents' bodies
    (English: their reference translation; Chinese: as written) and, as distractors, the WMT21
    en→zh source news in blocks of 10 lines (English; Chinese: its reference translation)."""
    folder = CORPORA / "wmt" / "wmt21"

    def lines(name: str) -> list[str]:
        return (folder / name).read_text("utf-8").splitlines()

    zh, en = lines("newstest2021.zh-en.src.zh"), lines("newstest2021.zh-en.ref.A.en")
    starts = [i for i, line in enumerate(zh) if _HEADLINE.search(line)] + [len(zh)]
    tasks = []
    for name, bodies, others in (("wmt21 zh→en (headlines → bodies)", en, "newstest2021.en-zh.src.en"),
                                 ("wmt21 zh→zh (headlines → bodies)", zh, "newstest2021.en-zh.ref.A.zh")):
        docs = {f"w{k}": "\n".join(bodies[a + 1 : b]) for k, (a, b) in enumerate(zip(starts, starts[1:]))}
        queries = [(zh[a], {f"w{k}"}) for k, a in enumerate(starts[:-1])]
        distractors = lines(others)
        docs.update({f"x{j}": "\n".join(distractors[j : j + 10]) for j in range(0, len(distractors), 10)})
        tasks.append(Task(name, docs, queries))
    return tasks


def build_index(task: Task, folder: Path) -> str:
    data = folder / "docs.jsonl"
    with data.open("w", encoding="utf-8") as out:
        for doc_id, text in task.docs.items():
            out.write(json.dumps({"id": doc_id, "body": text}, ensure_ascii=False) + "\n")
    index_dir = str(folder / "index")
    report = Indexer(index_dir).run([str(data)])
    if report.failed:
        raise SystemExit(f"{task.name}: {report.failed} documents failed to index: {report.failures[:3]}")
    return index_dir


def run(engine: Engine, task: Task, translate: bool) -> dict:
    filters = SearchFilters(translate=translate)
    runs: list[tuple[list[str], set[str]]] = []
    started = time.perf_counter()
    for text, relevant in task.queries:
        ids = [hit.id for hit in engine.search(text, size=10, highlight=False, facets=False, filters=filters).hits]
        runs.append((ids, set(relevant)))
    elapsed = time.perf_counter() - started
    scores = score_runs(runs)
    scores["ms_per_query"] = round(1000 * elapsed / max(1, len(task.queries)), 2)
    return scores


def evaluate(task: Task) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        engine = Engine(build_index(task, Path(tmp)))
        indexed = time.perf_counter() - started
        try:
            out = {"documents": len(task.docs), "queries": len(task.queries), "index_s": round(indexed, 1)}
            out["translate_off"] = run(engine, task, False)
            out["translate_on"] = run(engine, task, True)
        finally:
            engine.close()
    return out


#: query → its counterpart (the form the articles use)
NAMES = [
    ("Li Qiang", "李强"),
    ("Zelensky", "泽连斯基"),
    ("Peskov", "佩斯科夫"),
    ("Lula", "卢拉"),
    ("Nord Stream", "北溪"),
    ("普丁", "普京"),
    ("川普", "特朗普"),
    ("網路", "网络"),
    ("軟體", "软件"),
    ("滑鼠", "鼠标"),
]


def names_table(index_dir: str) -> dict:
    """The names table on an existing index: totals, shared top 10, counterpart marked."""
    engine = Engine(index_dir)
    out = {}
    try:
        for query, counterpart in NAMES:
            got = engine.search(query, size=10)
            theirs = engine.search(counterpart, size=10, highlight=False, facets=False)
            ours, want = [h.id for h in got.hits], [h.id for h in theirs.hits]
            marked = sum(1 for h in got.hits if f"<mark>{counterpart}</mark>" in " ".join(h.snippets.get("zh", [])))
            out[f"{query} → {counterpart}"] = {
                "total": got.total,
                "counterpart_total": theirs.total,
                "shared_top10": len(set(ours) & set(want)),
                "counterpart_top10": len(want),
                "marked_in_top10": marked,
                "interpreted": [t for entry in got.interpreted.translations for t in entry["translations"]],
            }
    finally:
        engine.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="*", default=SETS, choices=SETS)
    parser.add_argument("--queries", type=int, default=DEFAULT_QUERIES, help=f"Tatoeba queries per direction (default {DEFAULT_QUERIES})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the Tatoeba query sample")
    parser.add_argument("--out", default=str(RESULTS / "crosslingual.json"))
    parser.add_argument("--names", metavar="INDEX", help="run only the names table on this existing index")
    args = parser.parse_args(argv)
    if args.names:
        table = names_table(args.names)
        for row, value in table.items():
            print(json.dumps({row: value}, ensure_ascii=False))
        report = {"command": "python -m bench.crosslingual --names INDEX", "date": date.today().isoformat(), "results": table}
        (RESULTS / "names.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
        return 0
    tasks: list[Task] = []
    if "tatoeba" in args.sets:
        tasks += tatoeba(args.queries, args.seed)
    if "wmt21" in args.sets:
        tasks += wmt21()
    if "wmt22" in args.sets:
        tasks += wmt22()
    results = {}
    for task in tasks:
        results[task.name] = evaluate(task)
        print(json.dumps({task.name: results[task.name]}, ensure_ascii=False), flush=True)
    report = {
        "command": "python -m bench.crosslingual"
        + (f" --sets {' '.join(args.sets)}" if args.sets != SETS else "")
        + (f" --queries {args.queries}" if args.queries != DEFAULT_QUERIES else "")
        + (f" --seed {args.seed}" if args.seed != DEFAULT_SEED else ""),
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()} {platform.system()}, Python {platform.python_version()}",
        "setup": (
            "Known-item retrieval. Tatoeba: all distinct sentences of the target language indexed, "
            f"a seeded sample of {args.queries} distinct source sentences as queries, relevant = their paired translations. "
            "WMT21: the 101 zh→en documents whose headline ends in a site name, found by that headline among their bodies "
            "(English reference / Chinese source) and 101 blocks of 10 lines of the en→zh news. "
            "WMT22: target-language bodies indexed, source-language titles as queries."
        ),
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
