"""The setups the project is measured against, built the way their tutorials build them.

- ``whoosh_jieba``: Whoosh with jieba's ``ChineseAnalyzer`` (jieba search mode,
  lowercase, jieba's stop list, Porter stems) on one stored TEXT field holding
  title + body; one ``ix.writer()``; queries through Whoosh's ``QueryParser``
  with ``OrGroup`` over that field (wildcard syntax off, so a trailing ``?`` is
  punctuation); BM25F with Whoosh's defaults.
- ``cjk_bigram``: the same Whoosh setup with a Lucene ``CJKAnalyzer``-style
  analyzer: width folding, overlapping Han (and kana/hangul) bigrams — a lone
  character stays a unigram — and lowercase Latin words minus Lucene's 33 English
  stopwords, no stemming.
- ``words_bigrams``: the "60-line prototype" of issue 15: text and questions converted to
  simplified (OpenCC ``t2s``), jieba search-mode words in one TEXT field and the
  ``cjk_bigram`` tokens in another, the question's tokens of both ORed with equal weight
  (one ``Term`` each, no parser), BM25F defaults.
- ``fts5``: SQLite FTS5 (``unicode61`` tokenizer) over the text pre-tokenized by
  jieba's ``cut_for_search`` and joined with spaces; ranked by FTS5's bm25.
- ``tantivy``: tantivy's default tokenizer over the same pre-tokenized text.

jieba is imported lazily: importing ``jieba.analyse`` leaks a file handle
(a ResourceWarning), which must not reach the test suite.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from pathlib import Path
from typing import Iterable

from whoosh.analysis import Token, Tokenizer

from bench.common import Record

#: Lucene's ``EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`` (also CJKAnalyzer's default).
LUCENE_STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with".split()
)

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0003134f"
_CJK_OR_WORD = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>(?:(?![{_CJK}])[^\W_])+)")


class CJKBigramTokenizer(Tokenizer):
    """Lucene ``CJKAnalyzer`` in Whoosh: Han bigrams plus lowercase Latin words.

    >>> [t.text for t in CJKBigramTokenizer()("中俄關係 The Cooperating 中")]
    ['中俄', '俄關', '關係', 'cooperating', '中']
    """

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CJKBigramTokenizer)

    def __hash__(self) -> int:
        return hash(type(self).__name__)

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        text = unicodedata.normalize("NFKC", value)  # CJKWidthFilter; offsets are approximate after this
        pos = start_pos
        for match in _CJK_OR_WORD.finditer(text):
            run = match.group()
            start = match.start()
            if match.lastgroup == "cjk":
                pieces = [(run[i : i + 2], start + i, start + i + 2) for i in range(len(run) - 1)] or [(run, start, start + 1)]
            else:
                word = run.lower()
                if word in LUCENE_STOPWORDS:
                    continue
                pieces = [(word, start, match.end())]
            for piece, s, e in pieces:
                token.text = piece
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = piece
                if positions:
                    token.pos = pos
                if chars:
                    token.startchar, token.endchar = start_char + s, start_char + e
                pos += 1
                yield token


# --- jieba --------------------------------------------------------------------------------


def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def jieba_chinese_analyzer():
    _jieba()
    from jieba.analyse import ChineseAnalyzer

    return ChineseAnalyzer()


def jieba_search_text(text: str) -> str:
    """Text pre-tokenized with jieba's search mode, words joined by spaces (for FTS5 / tantivy)."""
    return " ".join(w for w in _jieba().cut_for_search(text) if not w.isspace())


def jieba_query_words(text: str) -> list[str]:
    return [w for w in _jieba().cut_for_search(text) if any(ch.isalnum() for ch in w)]


class JiebaWordsTokenizer(Tokenizer):
    """jieba search-mode words (lowercase, punctuation dropped), no stop list, no stemming."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JiebaWordsTokenizer)

    def __hash__(self) -> int:
        return hash(type(self).__name__)

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True, mode: str = "", **kwargs: object):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for i, word in enumerate(jieba_query_words(value) if tokenize else [value]):
            token.text = word.lower()
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = word
            if positions:
                token.pos = start_pos + i
            yield token


def _t2s(text: str) -> str:
    from search.analysis.convert import _converter

    return _converter("t2s").convert(text)


# --- Whoosh baselines -----------------------------------------------------------------------


class WhooshBaseline:
    """One stored TEXT field ``content`` (title + body), ``id`` stored; tutorial-style writer and parser."""

    def __init__(self, name: str) -> None:
        if name not in ("whoosh_jieba", "cjk_bigram", "words_bigrams"):
            raise ValueError(name)
        self.name = name
        self.ix = None
        self._searcher = None
        self._parser = None

    def analyzer(self):
        return jieba_chinese_analyzer() if self.name == "whoosh_jieba" else CJKBigramTokenizer()

    def schema(self):
        from whoosh.fields import ID, TEXT, Schema

        if self.name == "words_bigrams":
            return Schema(id=ID(stored=True), words=TEXT(analyzer=JiebaWordsTokenizer()), bigrams=TEXT(analyzer=CJKBigramTokenizer()))
        return Schema(id=ID(stored=True), content=TEXT(analyzer=self.analyzer(), stored=True))

    def build(self, index_dir: str | Path, docs: Iterable[tuple[str, str]]) -> int:
        from whoosh import index

        Path(index_dir).mkdir(parents=True, exist_ok=True)
        ix = index.create_in(str(index_dir), self.schema())
        writer = ix.writer()
        count = 0
        try:
            for doc_id, text in docs:
                if self.name == "words_bigrams":
                    simplified = _t2s(text)
                    writer.add_document(id=doc_id, words=simplified, bigrams=simplified)
                else:
                    writer.add_document(id=doc_id, content=text)
                count += 1
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        return count

    def open(self, index_dir: str | Path) -> "WhooshBaseline":
        from whoosh import index
        from whoosh.qparser import OrGroup, QueryParser, WildcardPlugin

        if self.name == "whoosh_jieba":
            _jieba()  # quiet logging before the schema unpickles the analyzer
        self.ix = index.open_dir(str(index_dir))
        self._searcher = self.ix.searcher()  # BM25F(B=0.75, K1=1.2), Whoosh's default
        self._parser = QueryParser("content", self.ix.schema, group=OrGroup)
        # Questions end in "?" and Whoosh would read "…是什麼?" as one unanalyzed wildcard
        # term; a search box is not a wildcard syntax, so the plugin goes (it only helps the baselines).
        self._parser.remove_plugin_class(WildcardPlugin)
        return self

    def search(self, text: str, limit: int = 10, highlight: bool = False) -> tuple[list[str], list[str]]:
        """(ids, snippets) of the top ``limit`` hits; a query Whoosh cannot parse finds nothing."""
        if self.name == "words_bigrams":
            from whoosh.query import Or, Term

            simplified = _t2s(text)
            schema = self.ix.schema
            terms = [Term(name, t.text) for name in ("words", "bigrams") for t in schema[name].analyzer(simplified)]
            results = self._searcher.search(Or(terms), limit=limit)
            return [hit["id"] for hit in results], []
        try:
            q = self._parser.parse(text)
        except Exception:  # noqa: BLE001 - the baseline's own parser failing counts as no hits
            return [], []
        results = self._searcher.search(q, limit=limit)
        ids = [hit["id"] for hit in results]
        snippets = [hit.highlights("content") for hit in results] if highlight else []
        return ids, snippets

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None


# --- SQLite FTS5 ----------------------------------------------------------------------------


def fts5_build(db_path: str | Path, records: Iterable[Record]) -> int:
    con = sqlite3.connect(str(db_path))
    try:
        con.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, text)")
        count = 0

        def rows():
            nonlocal count
            for record in records:
                count += 1
                yield record.id, jieba_search_text(record.text)

        with con:
            con.executemany("INSERT INTO docs(id, text) VALUES (?, ?)", rows())
    finally:
        con.close()
    return count


_FTS_PART = re.compile(r'"([^"]*)"|([^\s"]+)')


def fts5_match(query: str) -> str:
    """An FTS5 MATCH expression: quoted parts as phrases, other words ORed, all via jieba.

    >>> fts5_match('oil "Belt and Road"')
    '"oil" OR "Belt and Road"'
    """
    parts: list[str] = []
    for match in _FTS_PART.finditer(query):
        phrase, word = match.groups()
        words = jieba_query_words(phrase if phrase is not None else word)
        if not words:
            continue
        quoted = ['"' + w.replace('"', '""') + '"' for w in words]
        if phrase is not None:
            parts.append('"' + " ".join(w.replace('"', '""') for w in words) + '"')
        else:
            parts.extend(quoted)
    return " OR ".join(parts)


class FTS5Baseline:
    name = "fts5"

    def open(self, db_path: str | Path) -> "FTS5Baseline":
        self.con = sqlite3.connect(str(db_path), check_same_thread=False)
        return self

    def search(self, text: str, limit: int = 10, highlight: bool = False) -> tuple[list[str], list[str]]:
        expr = fts5_match(text)
        if not expr:
            return [], []
        if highlight:
            sql = "SELECT id, snippet(docs, 1, '<mark>', '</mark>', '…', 24) FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT ?"
        else:
            sql = "SELECT id, '' FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT ?"
        try:
            rows = self.con.execute(sql, (expr, limit)).fetchall()
        except sqlite3.OperationalError:
            return [], []
        return [r[0] for r in rows], ([r[1] for r in rows] if highlight else [])

    def close(self) -> None:
        self.con.close()


# --- tantivy --------------------------------------------------------------------------------


def tantivy_build(index_dir: str | Path, records: Iterable[Record]) -> int:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("text", stored=True)  # tantivy's "default" tokenizer: split, lowercase
    schema = builder.build()
    Path(index_dir).mkdir(parents=True, exist_ok=True)
    ix = tantivy.Index(schema, path=str(index_dir))
    writer = ix.writer()
    count = 0
    for record in records:
        writer.add_document(tantivy.Document(id=record.id, text=jieba_search_text(record.text)))
        count += 1
    writer.commit()
    writer.wait_merging_threads()
    return count
