"""Draw the bilingual speaker candidates from WMT21 (never WMT22): sentence pairs that may quote someone.

    .venv/bin/python tests/data/make_speakers_bilingual.py

WMT21's zh-en and en-zh test sets are sentence-aligned news without document
boundaries; consecutive sentences are grouped into documents, a new one starting
at a headline (a line with no sentence-final punctuation on the English side).
Every sentence pair whose English side has a speech verb (said, says, told,
added, stated, noted, stressed, explained, warned, urged, argued, insisted,
announced, according to) is a candidate (the en-zh set with its reference B, which keeps parenthesized
originals such as 多米尼克•拉布（Dominic Raab）). Only samples: labels are
written by hand into ``speakers_bilingual_gold.jsonl`` (see SPEAKERS_GUIDELINES.md).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

HERE = Path(__file__).parent
CORPORA = Path(os.environ.get("SEARCH_CORPORA", HERE.parents[2] / "shared" / "corpora"))
WMT = CORPORA / "wmt" / "wmt21"
SETS = {
    # name: (Chinese file, English file)
    "wmt21-zhen": ("newstest2021.zh-en.src.zh", "newstest2021.zh-en.ref.A.en"),
    "wmt21-enzh": ("newstest2021.en-zh.ref.B.zh", "newstest2021.en-zh.src.en"),
}
EN_VERBS = re.compile(r"\b(?:said|says|told|added|stated|noted|stressed|explained|warned|urged|argued|insisted|announced|according to)\b")
HEADLINE_END = re.compile(r"""[.?!"'”’):;…]\s*$""")


def documents(name: str) -> list[list[tuple[str, str]]]:
    zh_file, en_file = SETS[name]
    zh = (WMT / zh_file).read_text("utf-8").splitlines()
    en = (WMT / en_file).read_text("utf-8").splitlines()
    assert len(zh) == len(en), name
    docs: list[list[tuple[str, str]]] = []
    for z, e in zip(zh, en):
        if not docs or (not HEADLINE_END.search(e) and len(e) < 160 and docs[-1]):
            docs.append([])
        docs[-1].append((z.strip(), e.strip()))
    return docs


def main() -> None:
    out = []
    for name in SETS:
        for d, doc in enumerate(documents(name)):
            for s, (zh, en) in enumerate(doc):
                if EN_VERBS.search(en):
                    out.append({"doc_id": f"{name}-{d:03d}", "sent": s, "zh": zh, "en": en})
    path = HERE / "speakers_bilingual_candidates.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in out), "utf-8")
    print(f"{len(out)} candidates → {path}")


if __name__ == "__main__":
    main()
