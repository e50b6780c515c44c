"""Speaker extraction precision and recall on the hand-labeled samples.

    python -m bench.speakers [--gold tests/data/speakers_gold.jsonl] [--bilingual FILE] [--show-errors]
    python -m bench.speakers --cost [--rounds 2]
    python -m bench.speakers --share

``--cost``: what finding speakers costs the indexer, instead of the quality figures: the whole
news corpus indexed with and without speaker extraction, alternating in one run
(``bench.indexing``'s ``indexer_dedup`` and ``indexer_nospeakers``); the target is a
throughput drop of at most 10 %. Written to ``bench/results/speakers-cost.json``.
``--share``: the CPU seconds of speaker extraction over the corpus against those of the whole
``index`` command in the same run (robust on a shared machine), to ``bench/results/speakers-share.json``.

Each gold paragraph lists the people quoted in it (guidelines:
``tests/data/SPEAKERS_GUIDELINES.md``). Extracted and gold names are compared
as identities (习近平 = Xi Jinping), per paragraph; precision and recall are
micro-averaged over speaker mentions.

The bilingual set (``tests/data/speakers_bilingual_gold.jsonl``, WMT21 sentence
pairs) labels each person with the Chinese and the English name as written.
Each aligned sentence pair is extracted as one bilingual article; a predicted
speaker matches a labelled person when its Chinese name is the same (script
and middle dot folded) or its English name is (a surname alone matches the
full name). ``both_names`` is the share of people labelled in both languages
whose matched speaker has both names right.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from search.ingest.speakers import extract_speakers
from search.lexicon.people import people

GOLD = Path(__file__).resolve().parents[1] / "tests" / "data" / "speakers_gold.jsonl"
BILINGUAL = GOLD.with_name("speakers_bilingual_gold.jsonl")
RESULTS = Path(__file__).with_name("results")


def load_gold(path: Path = GOLD) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def gold_ids(row: dict) -> set[str]:
    lex = people()
    out = set()
    for speaker in row["speakers"]:
        name = speaker["name"]
        person = lex.from_chinese(name) if row["lang"] == "zh" else lex.from_english(name)
        out.add(person.id)
    return out


def predicted_ids(row: dict, articles: dict[str, str]) -> set[str]:
    """Speakers extracted from the paragraph alone, with the whole article (when the corpus is
    present) as the place company names are learned from, as when indexing."""
    if row["lang"] == "zh":
        return {speaker.id for speaker in extract_speakers({"zh": row["text"]})}
    text = " ".join(row["text"].split())
    article = articles.get(row["doc_id"], text)
    return {speaker.id for speaker in extract_speakers({"en": text}, article={"en": article})}


def load_articles(rows: list[dict]) -> dict[str, str]:
    from bench.datasets import CORPORA

    wanted = {row["doc_id"] for row in rows}
    out: dict[str, str] = {}
    for name in ("reuters21578.jsonl", "xwlb.jsonl"):
        path = CORPORA / "jsonl" / name
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if record["id"] in wanted:
                    out[record["id"]] = record["body"]
    return out


def evaluate(rows: list[dict], show_errors: bool = False) -> dict:
    scores: dict[str, dict[str, int]] = {}
    articles = load_articles(rows)
    for row in rows:
        gold, pred = gold_ids(row), predicted_ids(row, articles)
        for key in (row["lang"], "all"):
            tally = scores.setdefault(key, {"tp": 0, "fp": 0, "fn": 0, "paragraphs": 0})
            tally["tp"] += len(gold & pred)
            tally["fp"] += len(pred - gold)
            tally["fn"] += len(gold - pred)
            tally["paragraphs"] += 1
        if show_errors and gold != pred:
            print(f"{row['doc_id']}#{row['para']}: gold {sorted(gold)} predicted {sorted(pred)}\n    {row['text'][:160]}")
    report = {}
    for key, t in scores.items():
        precision = t["tp"] / (t["tp"] + t["fp"]) if t["tp"] + t["fp"] else 1.0
        recall = t["tp"] / (t["tp"] + t["fn"]) if t["tp"] + t["fn"] else 1.0
        report[key] = {**t, "precision": round(precision, 4), "recall": round(recall, 4)}
    return report


def _zh_key(name: str | None) -> str | None:
    from search.analysis.convert import to_simplified

    return to_simplified(name).replace("•", "·").replace("・", "·") if name else None


def _en_same(gold: str | None, pred: str | None) -> bool:
    """Same English name, or one is the other's surname (``Parly`` = ``Florence Parly``)."""
    if not gold or not pred:
        return False
    g, p = gold.lower().replace("’", "'").split(), pred.lower().replace("’", "'").split()
    return g == p or ((len(g) == 1 or len(p) == 1) and g[-1] == p[-1])


def evaluate_bilingual(rows: list[dict], show_errors: bool = False) -> dict:
    """Precision, recall and both-names accuracy on aligned zh/en sentence pairs."""
    tp = fp = fn = both = both_right = 0
    for row in rows:
        predicted = [{"zh": sp.names.get("zh"), "en": sp.names.get("en")} for sp in extract_speakers({"zh": row["zh"], "en": row["en"]})]
        free = list(predicted)
        errors = []
        for person in row["speakers"]:
            match = next(
                (p for p in free if (person["zh"] and _zh_key(p["zh"]) == _zh_key(person["zh"])) or _en_same(person["en"], p["en"])),
                None,
            )
            if person["zh"] and person["en"]:
                both += 1
            if match is None:
                fn += 1
                errors.append(f"missed {person}")
                continue
            free.remove(match)
            tp += 1
            if person["zh"] and person["en"]:
                right = _zh_key(match["zh"]) == _zh_key(person["zh"]) and _en_same(person["en"], match["en"])
                both_right += right
                if not right:
                    errors.append(f"names {match} for {person}")
        fp += len(free)
        errors += [f"extra {p}" for p in free]
        if show_errors and errors:
            print(f"{row['doc_id']}#{row['sent']}: {'; '.join(errors)}\n    {row['zh'][:80]}\n    {row['en'][:120]}")
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "sentences": len(rows),
        "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
        "labelled_in_both_languages": both,
        "both_names": round(both_right / both, 4) if both else 1.0,
    }


def cpu_share() -> dict:
    """CPU seconds speaker extraction takes over the whole news corpus, against the CPU seconds
    of ``python -m search index`` (with its writer processes) over the same files, measured in
    the same run. CPU time, unlike wall time, barely moves when other work shares the machine."""
    import resource
    import subprocess
    import sys
    import tempfile
    import time

    from bench.common import ROOT, news_paths
    from search.ingest import loader

    paths = news_paths()
    articles = [a for p in paths for part in loader.load_parts(str(p), speakers=False) for _, a in part.articles]
    people()  # the name tables are read once per indexing run too: counted below, not here
    started = time.process_time()
    found = sum(len(extract_speakers(a.body)) for a in articles if not a.speakers)
    extraction = time.process_time() - started
    with tempfile.TemporaryDirectory(prefix="bench-speakers-share-") as work:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = time.perf_counter()
        subprocess.run([sys.executable, "-m", "search", "index", *map(str, paths), "--index", str(Path(work) / "index"), "--quiet", "--nice", "0"], cwd=ROOT, check=True)
        wall = time.perf_counter() - wall
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    indexing = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "articles": len(articles),
        "speakers_found": found,
        "extraction_cpu_s": round(extraction, 1),
        "index_command_cpu_s": round(indexing, 1),
        "index_command_wall_s": round(wall, 1),
        "share_of_indexing_cpu": round(extraction / indexing, 4),
        "target_share_at_most": 0.10,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gold", default=str(GOLD))
    parser.add_argument("--bilingual", default=str(BILINGUAL), help="the bilingual (WMT21) gold set")
    parser.add_argument("--show-errors", action="store_true")
    parser.add_argument("--cost", action="store_true", help="measure what speaker extraction costs the indexer (whole corpus, minutes)")
    parser.add_argument("--rounds", type=int, default=2, help="with --cost: rounds of ABBA (default 2)")
    parser.add_argument("--share", action="store_true", help="CPU seconds of speaker extraction against those of the whole index command (whole corpus, minutes)")
    args = parser.parse_args(argv)
    if args.share:
        from bench.common import header

        report = header("python -m bench.speakers --share")
        report["share"] = cpu_share()
        print(json.dumps(report["share"], indent=2))
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "speakers-share.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
        return 0
    if args.cost:
        from bench.common import header
        from bench.indexing import alternate

        report = header("python -m bench.speakers --cost --rounds %d" % args.rounds)
        report["cost"] = alternate("indexer_nospeakers", "indexer_dedup", args.rounds, target=0.10)
        print(json.dumps(report["cost"], indent=2))
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "speakers-cost.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
        return 0
    report = evaluate(load_gold(Path(args.gold)), args.show_errors)
    report["bilingual"] = evaluate_bilingual(load_gold(Path(args.bilingual)), args.show_errors)
    print(json.dumps(report, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "speakers.json").write_text(json.dumps({"command": "python -m bench.speakers", "results": report}, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
