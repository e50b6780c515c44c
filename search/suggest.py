"""Suggestions as the user types: frequent words, speakers and article titles from the index.

Built once per index generation (:meth:`search.searcher.Engine.suggest` keeps it) from the
words of the titles (Chinese from the index's lexicon, English as written), the speaker directory and the
stored titles. Matching ignores script and case: 習, 习 and 习近平 all find 习近平; what is
shown follows the script the user typed.

>>> s = Suggestions.build(titles=[("a1", "中俄關係發展", "Xi, Putin talk trade", 20241022)],
...                       zh_words={"习近平": 40, "习惯": 3}, speakers={})
>>> [(x["type"], x["text"]) for x in s.suggest("習", 5)]
[('term', '習近平'), ('term', '習慣')]
>>> [(x["type"], x["text"]) for x in s.suggest("tal", 5)]
[('term', 'talk'), ('title', 'Xi, Putin talk trade')]
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from search.analysis.convert import convert_display, to_simplified

#: A Chinese word must be in this many articles to be suggested (rarer ones are mostly noise).
MIN_DOCS = 3
MAX_LIMIT = 20
#: Of ``limit`` suggestions, at most this many of each kind (the rest are filled by the others).
SHARES = {"speaker": 3, "term": 4, "title": 3}
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]")


def key(text: str) -> str:
    """The form suggestions are matched on: simplified, lowercase, single spaces."""
    return to_simplified(" ".join(text.split())).lower()


@dataclass
class Suggestions:
    words: list[str]  # sorted keys: simplified Chinese words and lowercase English title words
    counts: dict[str, int]  # word → articles (Chinese) or titles (English) holding it
    titles: list[tuple[str, str, str, str, int]]  # (key, title as published, lang, article id, YYYYMMDD), newest first
    speakers: dict[str, dict]  # id → {"names", "count"}
    names: list[tuple[str, str]]  # sorted (a speaker's name as matched, id): the whole name and each English word
    blob: str  # the title keys, one per line: searched with str.find, in C
    starts: list[int]  # the offset of the newline starting each title's line

    @classmethod
    def build(cls, titles: Iterable[tuple[str, str | None, str | None, int]], zh_words: dict[str, int], speakers: dict[str, dict]) -> "Suggestions":
        """``titles``: (article id, Chinese title, English title, YYYYMMDD or 0); ``zh_words``:
        indexed Chinese word → document frequency."""
        counts: Counter[str] = Counter({w: n for w, n in zh_words.items() if n >= MIN_DOCS and len(w) > 1 and _HAN.match(w)})
        rows = []
        for article_id, title_zh, title_en, day in titles:
            for text, lang in ((title_zh, "zh"), (title_en, "en")):
                if text and text.strip():
                    rows.append((key(text), " ".join(text.split()), lang, article_id, day or 0))
            if title_en:
                counts.update({w.lower() for w in _EN_WORD.findall(title_en) if len(w) > 2})
        rows.sort(key=lambda row: -row[4])
        names = sorted(
            (name, sid)
            for sid, entry in speakers.items()
            for name in {key(entry["names"].get("zh") or ""), *_words_of((entry["names"].get("en") or "").lower())}
            if name
        )
        keys = [row[0].replace("\n", " ") for row in rows]
        starts, offset = [], 0
        for k in keys:  # where each title's line starts in the blob (at its newline)
            starts.append(offset)
            offset += len(k) + 1
        return cls(sorted(counts), dict(counts), rows, speakers, names, "\n" + "\n".join(keys) + "\n", starts)

    def suggest(self, prefix: str, limit: int = 8) -> list[dict]:
        """Up to ``limit`` suggestions for what the user typed so far, in the script they typed."""
        wanted = key(prefix)
        if not wanted:
            return []
        limit = max(1, min(limit, MAX_LIMIT))
        script = "hant" if to_simplified(prefix) != prefix else None
        shown = (lambda text: convert_display(text, script)) if script else (lambda text: text)
        speakers = self._speakers(wanted, shown)
        named = {key(name) for sp in speakers[: SHARES["speaker"]] for name in sp["names"].values() if name}
        terms = [t for t in self._words(wanted, shown) if key(t["text"]) not in named]  # 普京 once, as the speaker
        found = {"speaker": speakers, "term": terms, "title": self._titles(wanted)}
        out: list[dict] = []
        for kind, share in SHARES.items():  # each kind its share first, then whatever room is left
            out += found[kind][:share]
        for kind, share in SHARES.items():
            out += found[kind][share:][: max(0, limit - len(out))]
        order = list(SHARES)
        return sorted(out[:limit], key=lambda item: order.index(item["type"]))

    def _words(self, wanted: str, shown) -> list[dict]:
        matching = sorted(_prefixed(self.words, wanted), key=lambda w: (-self.counts[w], w))
        return [
            {"type": "term", "text": shown(w) if _HAN.match(w) else w, "lang": "zh" if _HAN.match(w) else "en", "count": self.counts[w]}
            for w in matching[:MAX_LIMIT]
        ]

    def _speakers(self, wanted: str, shown) -> list[dict]:
        start = bisect_left(self.names, (wanted, ""))
        ids = []
        for name, sid in self.names[start:]:
            if not name.startswith(wanted):
                break
            if sid not in ids:
                ids.append(sid)
        out = []
        for sid in ids:
            entry = self.speakers[sid]
            zh, en = entry["names"].get("zh") or "", entry["names"].get("en") or ""
            names = {"zh": shown(zh) if zh else None, "en": en or None}
            out.append({"type": "speaker", "text": names["zh"] or en, "id": sid, "names": names, "count": entry["count"]})
        out.sort(key=lambda item: (-item["count"], item["id"]))
        return out[:MAX_LIMIT]

    def _titles(self, wanted: str) -> list[dict]:
        """Titles starting with ``wanted`` first, then titles containing it; newest first."""
        if "\n" in wanted:
            return []
        starting, containing = [], []
        pos = self.blob.find(wanted)
        while pos != -1 and len(starting) < MAX_LIMIT and len(starting) + len(containing) < 4 * MAX_LIMIT:
            begin = self.blob.rfind("\n", 0, pos)  # the newline before this title
            row = self.titles[bisect_left(self.starts, begin)]
            (starting if begin == pos - 1 else containing).append(row)
            pos = self.blob.find(wanted, self.blob.find("\n", pos))
        return [
            {"type": "title", "text": text, "lang": lang, "id": article_id}
            for _key, text, lang, article_id, _day in (starting + containing)[:MAX_LIMIT]
        ]


def _prefixed(words: list[str], wanted: str) -> list[str]:
    start = bisect_left(words, wanted)
    out = []
    for word in words[start:]:
        if not word.startswith(wanted):
            break
        out.append(word)
    return out


def _words_of(name: str) -> list[str]:
    return [name, *name.split()] if name else []


__all__ = ["MAX_LIMIT", "Suggestions", "key"]
