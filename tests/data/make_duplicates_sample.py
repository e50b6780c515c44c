"""Build the labelled duplicate / non-duplicate pairs (``duplicates_pairs.jsonl``) from the shared corpora.

    python -m tests.data.make_duplicates_sample

Candidates are drawn deterministically (seed 16) and given the label the rules of
``DUPLICATES_GUIDELINES.md`` say; pairs read by hand whose label differs from the rule
are listed in ``OVERRIDES`` with the reason. Article ids ending in ``#hant`` are
traditional copies made with OpenCC ``s2tw``; ``wmt21-zh-en-NNN#zh`` / ``#en`` are the two
halves of a WMT21 document (``newstest2021.zh-en``: Chinese originals, blocks of ``WMT_BLOCK``
aligned lines), ``wmt21-en-zh-NNN#en`` / ``#zh`` those of ``newstest2021.en-zh`` (English
originals and reference A's Chinese translation).
The corpora are not copied: ``derived_articles`` rebuilds the copies from them.
"""

from __future__ import annotations

import difflib
import json
import os
import random
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from search.model import Article

HERE = Path(__file__).resolve().parent
PAIRS = HERE / "duplicates_pairs.jsonl"
CORPORA = Path(os.environ.get("SEARCH_CORPORA") or HERE.parents[2] / "shared" / "corpora")
NEWS = (CORPORA / "jsonl" / "xwlb.jsonl", CORPORA / "jsonl" / "reuters21578.jsonl")
WMT = (CORPORA / "wmt" / "wmt21" / "newstest2021.zh-en.src.zh", CORPORA / "wmt" / "wmt21" / "newstest2021.zh-en.ref.A.en")
#: The other direction (English originals): test pairs for the cross-language link, unseen while tuning it.
WMT_EN_ZH = (CORPORA / "wmt" / "wmt21" / "newstest2021.en-zh.ref.A.zh", CORPORA / "wmt" / "wmt21" / "newstest2021.en-zh.src.en")
WMT_BLOCK = 10
SEED = 16

#: (a, b) → (label, why): pairs read by hand where the rule's label was wrong.
OVERRIDES: dict[tuple[str, str], tuple[str, str]] = {
    ("reuters-5819", "reuters-6981"): ("different", "two days' money-market forecasts of the Bank of England that happen to give the same figure"),
    ("reuters-4809", "reuters-5394"): ("duplicate", "the same feature (EMS eighth birthday) run again three days later, shortened"),
}


def _record_article(record: dict, lang: str) -> Article:
    date = datetime.fromisoformat(record["date"]) if record.get("date") else None
    return Article(record["id"], title={lang: record.get("title")}, body={lang: record.get("body")}, date=date, source=record.get("source"))


def news_records() -> list[tuple[dict, str]]:
    out = []
    for path in NEWS:
        lang = "zh" if path.name.startswith("xwlb") else "en"
        with path.open(encoding="utf-8") as handle:
            out.extend((json.loads(line), lang) for line in handle if line.strip())
    return out


def news_articles() -> list[Article]:
    """The news corpus as articles, in file order (as the indexer reads it)."""
    return [_record_article(record, lang) for record, lang in news_records()]


def wmt_documents(files: tuple[Path, Path] = WMT) -> list[tuple[str, str]]:
    """WMT21 zh→en (or ``WMT_EN_ZH``) as documents of ``WMT_BLOCK`` aligned lines: (Chinese text, English text)."""
    zh = files[0].read_text("utf-8").splitlines()
    en = files[1].read_text("utf-8").splitlines()
    return [("\n".join(zh[i : i + WMT_BLOCK]), "\n".join(en[i : i + WMT_BLOCK])) for i in range(0, min(len(zh), len(en)) - WMT_BLOCK + 1, WMT_BLOCK)]


def derived_articles(pairs: list[dict], by_id: dict[str, Article]) -> list[Article]:
    """The articles the pairs refer to that are not in the corpus: script copies, WMT halves."""
    import opencc

    s2tw = opencc.OpenCC("s2tw")
    docs = {"wmt21-zh-en": wmt_documents(), "wmt21-en-zh": wmt_documents(WMT_EN_ZH)}
    wanted = sorted({pair[side] for pair in pairs for side in ("a", "b")} - set(by_id))
    out = []
    for article_id in wanted:
        base, _, kind = article_id.partition("#")
        if kind == "hant":
            source = by_id[base]
            out.append(Article(article_id, title={"zh": s2tw.convert(source.title["zh"] or "")}, body={"zh": s2tw.convert(source.body["zh"] or "")},
                               date=source.date, source=source.source))
        elif base.startswith(("wmt21-zh-en-", "wmt21-en-zh-")):
            zh, en = docs[base[:11]][int(base.rsplit("-", 1)[1])]
            out.append(Article(article_id, body={kind: zh if kind == "zh" else en}))
        else:
            raise KeyError(f"unknown article {article_id!r} in {PAIRS.name}")
    return out


def _days(a: dict, b: dict) -> float:
    return abs((datetime.fromisoformat(a["date"]) - datetime.fromisoformat(b["date"])).total_seconds()) / 86400


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def candidates() -> list[dict]:
    rng = random.Random(SEED)
    records = news_records()
    reuters = [r for r, lang in records if lang == "en"]
    xwlb = [r for r, lang in records if lang == "zh"]
    pairs: list[dict] = []

    def add(a: str, b: str, label: str, kind: str) -> None:
        label, note = OVERRIDES.get((a, b), (label, ""))
        pairs.append({"a": a, "b": b, "label": label, "kind": kind, **({"note": note} if note else {})})

    # Reuters stories re-filed: the same first 200 characters.
    by_lead = defaultdict(list)
    for r in reuters:
        if len(r["body"]) >= 200:
            by_lead[r["body"][:200]].append(r)
    near, far = [], []
    for found in by_lead.values():
        for a, b in zip(found, found[1:]):
            (near if _days(a, b) <= 3 else far).append((a, b))
    for a, b in rng.sample(near, 150):
        add(a["id"], b["id"], "duplicate", "reuters-refiled")
    for a, b in far:
        add(a["id"], b["id"], "different", "reuters-same-text-other-day")

    # Reuters: same day, titles sharing their first two words, bodies mostly different.
    by_day_title = defaultdict(list)
    for r in reuters:
        by_day_title[(r["date"][:10], " ".join(r["title"].split()[:2]))].append(r)
    same_topic = []
    for found in by_day_title.values():
        for a, b in zip(found, found[1:]):
            if a["body"][:200] != b["body"][:200] and _ratio(a["body"][:800], b["body"][:800]) < 0.6:
                same_topic.append((a, b))
    for a, b in rng.sample(same_topic, min(60, len(same_topic))):
        add(a["id"], b["id"], "different", "reuters-same-topic")

    # CCTV: the same title within three days (templated reports: other figures, other people).
    by_title = defaultdict(list)
    for r in xwlb:
        by_title[r["title"]].append(r)
    templated, bulletins = [], []
    for title, found in by_title.items():
        found.sort(key=lambda r: r["date"])
        for a, b in zip(found, found[1:]):
            if _days(a, b) > 3:
                continue
            if title == "国际联播快讯":
                bulletins.append((a, b))
            elif _ratio(a["body"][:600], b["body"][:600]) >= 0.5:
                templated.append((a, b))
    for a, b in rng.sample(bulletins, 60):
        add(a["id"], b["id"], "different", "xwlb-bulletins")
    for a, b in templated:
        same = a["body"] == b["body"]
        add(a["id"], b["id"], "duplicate" if same else "different", "xwlb-repeat" if same else "xwlb-templated")

    # Traditional copies of CCTV stories (simplified originals).
    for r in rng.sample(xwlb, 60):
        add(r["id"], r["id"] + "#hant", "duplicate", "script-copy")

    # WMT21: a Chinese document and its English translation; the next document is another.
    docs = len(wmt_documents())
    for n in rng.sample(range(docs - 1), 60):
        add(f"wmt21-zh-en-{n:03d}#zh", f"wmt21-zh-en-{n:03d}#en", "duplicate", "cross-language-translation")
        add(f"wmt21-zh-en-{n:03d}#zh", f"wmt21-zh-en-{n + 1:03d}#en", "different", "cross-language-next-document")
    # The other direction: an English original and its Chinese translation (the test half).
    docs = len(wmt_documents(WMT_EN_ZH))
    for n in rng.sample(range(docs - 1), 60):
        add(f"wmt21-en-zh-{n:03d}#en", f"wmt21-en-zh-{n:03d}#zh", "duplicate", "cross-language-translation")
        add(f"wmt21-en-zh-{n:03d}#en", f"wmt21-en-zh-{n + 1:03d}#zh", "different", "cross-language-next-document")
    return pairs


def main() -> int:
    pairs = candidates()
    PAIRS.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs), "utf-8")
    counts = defaultdict(int)
    for p in pairs:
        counts[(p["kind"], p["label"])] += 1
    print(json.dumps({f"{k} {l}": n for (k, l), n in sorted(counts.items())}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
