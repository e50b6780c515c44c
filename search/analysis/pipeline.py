"""The one analysis pipeline, used for documents and queries alike.

``analyze(text)`` → tokens whose ``start``/``end`` index the original text and
whose ``term`` is the indexed form: simplified Chinese word, stemmed lowercase
English word, number, or lowercase word of another script.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Iterator

from search.analysis.convert import to_simplified
from search.analysis.english import STOPWORDS_EN, normalize_word, stem
from search.analysis.scripts import script_runs, span_in_original
from search.analysis.segment import segment
from search.analysis.tokens import Token

#: Bump on every change that alters the terms produced for some text; the index
#: stores it and refuses to open with a different value (re-index needed).
ANALYZER_VERSION = 1


def _load_zh_stopwords() -> frozenset[str]:
    path = Path(__file__).with_name("stopwords_zh.txt")
    words = (line.split("#", 1)[0].strip() for line in path.read_text("utf-8").splitlines())
    return frozenset(w for w in words if w)


STOPWORDS_ZH = _load_zh_stopwords()


def analyze(text: str, *, subwords: bool = True) -> Iterator[Token]:
    """Analyze mixed Chinese/English text.

    ``subwords=False`` keeps only the longest jieba words (used for query
    phrases, where the index's sub-words would be redundant).

    >>> [(t.term, t.start, t.end, t.pos) for t in analyze("中俄關係 cooperating")]
    [('中俄关系', 0, 4, 0), ('中俄', 0, 2, 0), ('关系', 2, 4, 0), ('cooper', 5, 16, 1)]
    """
    pos = -1
    for run in script_runs(text):
        kind = run.kind
        if kind == "han":
            simplified = to_simplified(run.text)
            last_index = None
            for word, s, e, index in segment(simplified):
                if word in STOPWORDS_ZH:
                    continue
                if index != last_index:
                    pos += 1
                    last_index = index
                    base_end = e
                elif not subwords and e <= base_end:
                    continue
                start, end = span_in_original(run, s, e)
                yield Token(word, start, end, pos, "zh")
        elif kind == "latin":
            word = normalize_word(run.text)
            if not word or word in STOPWORDS_EN:
                continue
            pos += 1
            yield Token(stem(word), run.start, run.end, pos, "en")
        elif kind == "digit":
            pos += 1
            yield Token(run.text.replace("．", "."), run.start, run.end, pos, "num")
        else:
            pos += 1
            yield Token(run.text.lower(), run.start, run.end, pos, "other")


def query_terms(text: str) -> list[Token]:
    """Analyze query text: longest words only, positions renumbered from 0."""
    return list(_query_terms(text))


@lru_cache(maxsize=65_536)
def _query_terms(text: str) -> tuple[Token, ...]:
    # Planning analyzes the query's words and each of their translations and variants, the
    # same short strings query after query (tokens are immutable; callers get their own list).
    return tuple(analyze(text, subwords=False))
