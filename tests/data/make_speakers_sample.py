"""Sample candidate paragraphs for the hand-checked speaker-extraction gold set.

This script only *samples*: it writes unlabeled candidate paragraphs
(``speakers_candidates.jsonl``).  The labels in ``speakers_gold.jsonl`` were
added by a person reading each paragraph (see ``SPEAKERS_GUIDELINES.md``); they
are never produced by code.

Usage (from the project root)::

    .venv/bin/python tests/data/make_speakers_sample.py            # defaults below
    .venv/bin/python tests/data/make_speakers_sample.py --corpora DIR --out FILE

Sampling, per corpus, with ``random.Random(SEED)``:

* paragraphs are the body's ``"\\n"``-separated parts (xwlb).  Reuters bodies are
  hard-wrapped at ~65 characters, so a ``"\\n"`` part there is a *line*, not a
  paragraph; a Reuters paragraph is rebuilt as a run of lines that starts at the
  first line of the body or at a line indented with whitespace (see
  :func:`reuters_paragraphs`).  ``para`` is always the index of the paragraph's
  first part in ``body.split("\\n")``; Reuters rows also carry ``para_end``
  (exclusive) so ``"\\n".join(body.split("\\n")[para:para_end]).strip() == text``.
* paragraphs longer than ``MAX_CHARS`` characters, empty ones, and (Reuters)
  tables are skipped;
* each eligible paragraph goes to the "verb" pool if it contains one of the
  speech verbs below, else to the "no verb" pool;
* ``N_VERB`` paragraphs are drawn from the verb pool and ``N_PLAIN`` from the
  other one, at most one paragraph per article.

English supplement (``speakers_candidates_en2.jsonl``), a second, separate pool
drawn after the rows above and with its own seed (``SEED_EN2``), so the first
file is unchanged.  The main sample has only a handful of Reuters paragraphs
with a named speaker, so this pool is biased towards named subjects:

* same Reuters paragraphs as above (:func:`reuters_paragraphs`, 15 to
  ``MAX_CHARS`` characters, no tables), minus the Reuters paragraphs already in
  the main sample (i.e. already in the gold set);
* a paragraph is eligible when :func:`has_named_speech` is true: one of
  ``EN2_VERBS`` (lower case) starts at most 40 characters after the end of a
  capitalized word that is not the first word of its sentence, without a
  sentence end in between, or ``said`` is directly followed by a capitalized
  word.  Weekday and month names and "I" do not count as capitalized words;
* ``N_EN2`` paragraphs are drawn, at most one per article.  Rows carry
  ``speech_verb: true`` and ``pool: "en-supplement"``.

>>> reuters_paragraphs("First line\\nwraps here.\\n    Second para\\nends.")
[(0, 2, 'First line\\nwraps here.'), (2, 4, 'Second para\\nends.')]
>>> has_speech_verb("李强表示，要加快发展。", "zh"), has_speech_verb("The bank said on Monday", "en")
(True, True)
>>> has_speech_verb("Profits rose to 3 mln dlrs.", "en")
False
>>> has_named_speech("Prices fell, Hesse said."), has_named_speech("Prices fell, said John Smith.")
(True, True)
>>> has_named_speech("He said prices fell."), has_named_speech("Prices fell, the bank said Monday.")
(False, False)
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

SEED = 20240521
MAX_CHARS = 600
N_VERB = 40  # per corpus: 2/3 of 60
N_PLAIN = 20  # per corpus: 1/3 of 60

ZH_VERBS = ("表示", "指出", "强调", "说", "认为", "称", "介绍")
EN_VERBS = ("said", "says", "told", "added", "stated")
_ZH_VERB = re.compile("|".join(ZH_VERBS))
_EN_VERB = re.compile(r"\b(?:" + "|".join(EN_VERBS) + r")\b", re.IGNORECASE)
_TABLE = re.compile(r"\S\s{3,}\S|\.\.\.\.")  # column gaps or dot leaders

# English supplement: a second pool, biased towards paragraphs with a named-looking subject.
SEED_EN2 = 20240612
N_EN2 = 80
EN2_VERBS = ("said", "says", "told", "added", "stated", "noted", "stressed")
EN2_GAP = 40  # max characters between the capitalized word and the verb
_EN2_VERB = re.compile(r"\b(?:" + "|".join(EN2_VERBS) + r")\b")  # case-sensitive: skips all-caps bodies
_CAP_WORD = re.compile(r"(?<![\w'&-])[A-Z][\w'&-]*")
_SAID_CAP = re.compile(r"\bsaid\s+([A-Z][\w'&-]*)")
_SENT_END = re.compile(r"[.!?][\"']?\s")
_NOT_NAMES = frozenset(
    "I Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June "
    "July August September October November December".split()
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEFAULT_CORPORA = ROOT.parent / "shared" / "corpora" / "jsonl"
CORPORA = (("xwlb.jsonl", "zh"), ("reuters21578.jsonl", "en"))


def has_speech_verb(text: str, lang: str) -> bool:
    """True when ``text`` contains one of the sampling speech verbs (a sampling bias only, not a label)."""
    return bool((_ZH_VERB if lang == "zh" else _EN_VERB).search(text))


def has_named_speech(text: str) -> bool:
    """Supplement filter (a sampling bias only, not a label): a speech verb at most ``EN2_GAP``
    characters after a capitalized word that does not start its sentence, or ``said`` + capitalized word."""
    for m in _CAP_WORD.finditer(text):
        if m.group() in _NOT_NAMES:
            continue
        before = text[: m.start()].rstrip(" \t\n\"'<(")
        if not before or before[-1] in ".!?":  # first word of a sentence
            continue
        v = _EN2_VERB.search(text, m.end())
        if v and v.start() - m.end() <= EN2_GAP and not _SENT_END.search(text[m.end() : v.start()]):
            return True
    return any(m.group(1) not in _NOT_NAMES for m in _SAID_CAP.finditer(text))


def xwlb_paragraphs(body: str) -> list[tuple[int, int, str]]:
    """``(para, para_end, text)`` for each non-empty ``"\\n"``-separated part."""
    return [(i, i + 1, part.strip()) for i, part in enumerate(body.split("\n")) if part.strip()]


def reuters_paragraphs(body: str) -> list[tuple[int, int, str]]:
    """Rebuild paragraphs from hard-wrapped lines: a paragraph starts at line 0, at an
    indented line, or after an empty line; tables (column gaps) are dropped."""
    lines = body.split("\n")
    out: list[tuple[int, int, str]] = []
    start = None
    for i, line in enumerate(lines + [""]):
        boundary = i == len(lines) or not line.strip() or line[:1].isspace()
        if boundary and start is not None:
            text = "\n".join(lines[start:i]).strip()
            if text and not any(_TABLE.search(l.strip()) for l in lines[start:i]):
                out.append((start, i, text))
            start = None
        if i < len(lines) and line.strip() and start is None:
            start = i
    return out


def candidates(path: Path, lang: str) -> tuple[list[dict], list[dict]]:
    """Eligible paragraphs of one corpus, split into (with speech verb, without)."""
    verb: list[dict] = []
    plain: list[dict] = []
    split = xwlb_paragraphs if lang == "zh" else reuters_paragraphs
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)
            body = doc.get("body") or ""
            if not isinstance(body, str):
                continue
            for para, end, text in split(body):
                if len(text) > MAX_CHARS or len(text) < 15:
                    continue
                row = {"doc_id": doc["id"], "para": para}
                if lang == "en":
                    row["para_end"] = end
                row.update({"lang": lang, "text": text})
                (verb if has_speech_verb(text, lang) else plain).append(row)
    return verb, plain


def sample(corpora: Path, seed: int = SEED) -> list[dict]:
    rows: list[dict] = []
    for name, lang in CORPORA:
        rng = random.Random(f"{seed}:{name}")
        verb, plain = candidates(corpora / name, lang)
        used: set[str] = set()
        picked = [dict(r, speech_verb=True) for r in _pick(verb, N_VERB, rng, used)]
        picked += [dict(r, speech_verb=False) for r in _pick(plain, N_PLAIN, rng, used)]
        picked.sort(key=lambda r: (_doc_key(r["doc_id"]), r["para"]))
        rows += picked
    return rows


def sample_en_supplement(corpora: Path, exclude: set[tuple[str, int]], seed: int = SEED_EN2) -> list[dict]:
    """The English supplement: ``N_EN2`` Reuters paragraphs that pass :func:`has_named_speech`,
    skipping the ``(doc_id, para)`` pairs in ``exclude`` (the main sample), one per article."""
    name = "reuters21578.jsonl"
    rng = random.Random(f"{seed}:{name}:en2")
    verb, plain = candidates(corpora / name, "en")
    pool = [r for r in verb + plain if (r["doc_id"], r["para"]) not in exclude and has_named_speech(r["text"])]
    pool.sort(key=lambda r: (_doc_key(r["doc_id"]), r["para"]))
    picked = [dict(r, speech_verb=True, pool="en-supplement") for r in _pick(pool, N_EN2, rng, set())]
    picked.sort(key=lambda r: (_doc_key(r["doc_id"]), r["para"]))
    return picked


def _pick(pool: list[dict], n: int, rng: random.Random, used: set[str]) -> list[dict]:
    order = list(range(len(pool)))
    rng.shuffle(order)
    out = []
    for i in order:
        if pool[i]["doc_id"] in used:
            continue
        used.add(pool[i]["doc_id"])
        out.append(pool[i])
        if len(out) == n:
            break
    return out


def _doc_key(doc_id: str) -> tuple:
    """Natural order: reuters-2 before reuters-10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", doc_id))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA, help="folder with xwlb.jsonl and reuters21578.jsonl")
    ap.add_argument("--out", type=Path, default=HERE / "speakers_candidates.jsonl")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--out-en2", type=Path, default=HERE / "speakers_candidates_en2.jsonl", help="English supplement")
    ap.add_argument("--seed-en2", type=int, default=SEED_EN2)
    args = ap.parse_args(argv)
    rows = sample(args.corpora, args.seed)
    _write(args.out, rows)
    for lang in ("zh", "en"):
        n = sum(r["lang"] == lang for r in rows)
        v = sum(r["lang"] == lang and r["speech_verb"] for r in rows)
        print(f"{lang}: {n} paragraphs ({v} with a speech verb)")
    print(f"wrote {args.out}")
    main_en = {(r["doc_id"], r["para"]) for r in rows if r["lang"] == "en"}
    rows2 = sample_en_supplement(args.corpora, main_en, args.seed_en2)
    _write(args.out_en2, rows2)
    print(f"en supplement: {len(rows2)} paragraphs")
    print(f"wrote {args.out_en2}")
    return 0


def _write(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
