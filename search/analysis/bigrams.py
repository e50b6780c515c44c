"""Overlapping character bigrams of Chinese text, indexed beside jieba's words.

A word splitter decides where words end; a user pasting part of a name (近平 of 习近平) or
a string across two words (俄关 of 中俄关系) asks for characters, not words. Bigrams of
the simplified text find any such string of two or more characters: its bigrams at
consecutive positions. ``original[start:end]`` of each token is the pair as published.
"""

from __future__ import annotations

from typing import Iterator

from search.analysis.convert import to_simplified
from search.analysis.pipeline import han_run  # its run cache: the word fields analyze the same text
from search.analysis.scripts import script_runs, script_texts, span_in_original
from search.analysis.tokens import Token


def bigrams(text: str) -> Iterator[Token]:
    """The bigrams of each Han run of ``text`` (simplified), one position each; a run of one
    character has none, and runs are a position apart so no phrase joins two of them.

    >>> [(t.term, t.start, t.end, t.pos) for t in bigrams("中俄關係 and 習近平")]
    [('中俄', 0, 2, 0), ('俄关', 1, 3, 1), ('关系', 2, 4, 2), ('习近', 9, 11, 4), ('近平', 10, 12, 5)]
    """
    pos = -1
    for run in script_runs(text):
        if run.kind != "han" or len(run.text) < 2:
            continue
        simplified = to_simplified(run.text)
        pos += 1  # a gap between runs
        for i in range(len(simplified) - 1):
            start, end = span_in_original(run, i, i + 2)
            yield Token(simplified[i : i + 2], start, end, pos + i, "zh")
        pos += len(simplified) - 1


def query_bigrams(text: str) -> list[list[str]]:
    """The bigram phrases of the Han runs of a query string (simplified): one list per run
    of two characters or more.

    >>> query_bigrams("近平 俄關係 x 中")
    [['近平'], ['俄关', '关系']]
    """
    runs: list[list[str]] = []
    last = None
    for tok in bigrams(text):
        if last is None or tok.pos != last + 1:
            runs.append([])
        runs[-1].append(tok.term)
        last = tok.pos
    return runs


def stopword_pairs(text: str) -> set[str]:
    """The bigrams of ``text`` (simplified) that lie wholly within its stopwords (是什 and 什么
    of 是什么): they say as little about a question's topic as the stopwords they come from.
    A pair that also stands elsewhere in ``text`` with a kept word is not one of them.

    >>> sorted(stopword_pairs("北京是什么時候"))
    ['什么', '是什']
    """
    stop: set[str] = set()
    kept: set[str] = set()
    for kind, run in script_texts(text):
        if kind != "han" or len(run) < 2:
            continue
        simplified, words = han_run(run, keep=False)[:2]
        covered = [False] * len(simplified)
        for _word, start, end, _pos, _first in words:
            covered[start:end] = [True] * (end - start)
        for i in range(len(simplified) - 1):
            (kept if covered[i] or covered[i + 1] else stop).add(simplified[i : i + 2])
    return stop - kept
