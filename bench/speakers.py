"""Speaker extraction precision and recall on the hand-labeled sample.

    python -m bench.speakers [--gold tests/data/speakers_gold.jsonl] [--show-errors]

Each gold paragraph lists the people quoted in it (guidelines:
``tests/data/SPEAKERS_GUIDELINES.md``). Extracted and gold names are compared
as identities (习近平 = Xi Jinping), per paragraph; precision and recall are
micro-averaged over speaker mentions.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from search.ingest.speakers import extract_speakers
from search.lexicon.people import people

GOLD = Path(__file__).resolve().parents[1] / "tests" / "data" / "speakers_gold.jsonl"
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gold", default=str(GOLD))
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args(argv)
    report = evaluate(load_gold(Path(args.gold)), args.show_errors)
    print(json.dumps(report, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "speakers.json").write_text(json.dumps({"command": "python -m bench.speakers", "results": report}, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
