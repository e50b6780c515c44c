"""Evaluation sets built from ``../shared/corpora`` (present for developers and CI, not shipped).

Each set is a list of documents (id, text) and queries (question, the one relevant doc id).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

CORPORA = Path(os.environ.get("SEARCH_CORPORA", Path(__file__).resolve().parents[2] / "shared" / "corpora"))


@dataclass(frozen=True)
class QASet:
    name: str
    docs: dict[str, str]  # paragraph id → text
    queries: list[tuple[str, str]]  # (question, relevant paragraph id)


def squad(path: Path, name: str) -> QASet:
    """A SQuAD-format file: each question's relevant document is its paragraph."""
    data = json.loads(path.read_text("utf-8"))["data"]
    docs: dict[str, str] = {}
    queries: list[tuple[str, str]] = []
    for a, article in enumerate(data):
        for p, para in enumerate(article["paragraphs"]):
            pid = f"{a}-{p}"
            docs[pid] = para["context"]
            for qa in para["qas"]:
                queries.append((qa["question"], pid))
    return QASet(name, docs, queries)


def converted(qa: QASet, config: str, name: str) -> QASet:
    """The same set with questions converted to the other script (OpenCC ``t2s``/``s2t``)."""
    import opencc

    conv = opencc.OpenCC(config)
    return QASet(name, qa.docs, [(conv.convert(q), pid) for q, pid in qa.queries])


def qa_sets(names: list[str] | None = None) -> list[QASet]:
    wanted = set(names or ["drcd", "drcd-hans", "cmrc-dev", "cmrc-dev-hant", "cmrc-trial"])
    out: list[QASet] = []
    qa_dir = CORPORA / "qa"
    if wanted & {"drcd", "drcd-hans"}:
        drcd = squad(qa_dir / "DRCD_dev.json", "drcd")
        if "drcd" in wanted:
            out.append(drcd)
        if "drcd-hans" in wanted:
            out.append(converted(drcd, "t2s", "drcd-hans"))
    if wanted & {"cmrc-dev", "cmrc-dev-hant"}:
        dev = squad(qa_dir / "cmrc2018_dev.json", "cmrc-dev")
        if "cmrc-dev" in wanted:
            out.append(dev)
        if "cmrc-dev-hant" in wanted:
            out.append(converted(dev, "s2t", "cmrc-dev-hant"))
    if "cmrc-trial" in wanted:
        out.append(squad(qa_dir / "cmrc2018_trial.json", "cmrc-trial"))
    return out
