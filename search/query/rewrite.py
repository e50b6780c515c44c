"""What users type, read against the index before planning: typos, pinyin, stopwords.

A Latin-script word of the query is, in this order:

1. searched as typed if the index holds it (an English field has its stem), or if the
   translation lexicon knows it (``Moscow`` in an index of Chinese articles finds 莫斯科:
   the index holds it through its translation) — such words are never "corrected";
2. read as pinyin if it, or a run of words typed side by side, spells the pinyin of Chinese
   words the index holds in more articles than its English fields hold the word (``xijinping``, ``xi jinping`` → 习近平; ``yidaiyilu`` → 一带一路):
   the Chinese words are searched too, the most frequent first
   (:mod:`search.lexicon.pinyin`); a run of English words only is not (``women``, ``long``,
   and so ``xi jin ping``, whose three words are in the English lexicon: ``xijinping`` is read);
3. corrected to the nearest word of the index's English vocabulary, or of the English
   names of the people it quotes, within the edits its length allows (:mod:`search.query.spelling`):
   ``Pution`` → Putin, ``ukriane`` → Ukraine. The corrected word is then translated as any
   word is (Putin → 普京);
4. otherwise searched as typed (query translation may still match it by sound to a
   transliterated name the index holds: Zelensky → 泽连斯基).

So sound matching comes after typo correction: the index's own words are direct evidence,
a sound match across scripts a guess. A word in quotes (``"Pution"``) is never corrected
nor read as pinyin: the page's "search instead for" link searches that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Protocol

from search.analysis import query_terms
from search.analysis.english import stem
from search.lexicon import lexicon
from search.lexicon.keys import is_stopword, word_key
from search.lexicon.pinyin import MIN_CHARS, is_pinyin
from search.query.parse import Node, Not, Or, Parsed, Phrase, Pref, Word
from search.query.plan import TEXT_FIELDS
from search.query.translate import NO_PHRASE_START, UNTRANSLATED_EN
from search.query.spelling import OSA, allowed_edits, best, correctable, surface

if TYPE_CHECKING:
    from search.lexicon.pinyin import PinyinTable


class View(Protocol):
    """What reading a query asks of the index (a backend's view, :class:`search.backends.base.View`)."""

    def frequencies(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]: ...
    def similar_terms(self, fieldnames: tuple[str, ...], term: str, max_edits: int) -> dict[str, tuple[int, int]]: ...
    def pinyin_table(self) -> "PinyinTable": ...
    def speaker_directory(self) -> dict[str, dict]: ...
    def memo(self, key: object, build: Callable[[], object]) -> object: ...


#: Where a Latin-script word is looked for: every text field (English words occur in Chinese articles too: APEC, 5G).
LATIN_FIELDS = TEXT_FIELDS
ZH_FIELDS = tuple(f for f in TEXT_FIELDS if f.endswith("_zh"))
#: Chinese readings of one pinyin input searched, and how common the rarer ones must be
#: relative to the most common (悲喜 is not searched for ``beixi`` beside 北溪 in 200 times as many articles).
MAX_PINYIN_WORDS = 3
MIN_PINYIN_SHARE = 0.05
#: Pinyin reads at most this many words typed side by side (xi jin ping).
MAX_PINYIN_RUN = 4


@dataclass
class Reading:
    """The query as it will be planned, and what was done to what was typed."""

    parsed: Parsed
    corrections: list[dict] = field(default_factory=list)  # {"typed": "Pution", "corrected": "Putin"}
    pinyin: list[dict] = field(default_factory=list)  # {"typed": "xijinping", "words": ["习近平"]}
    warnings: list[str] = field(default_factory=list)
    corrected_query: str | None = None  # the query as searched, when a word was corrected
    verbatim_query: str | None = None  # the query that searches the corrected words as typed


def read(parsed: Parsed, raw: str, view: View, *, assist: bool = True) -> Reading:
    """Correct typos and read pinyin in ``parsed`` against ``view``; ``assist=False`` only adds
    the stopword warning (a search of the words as typed)."""
    reading = Reading(parsed)
    if parsed.node is None:
        return reading
    if assist:
        helper = _Helper(view)
        node = helper.node(parsed.node, negated=False)
        reading.parsed = Parsed(node, list(parsed.warnings), list(parsed.sources))
        reading.corrections, reading.pinyin = helper.corrections, helper.pinyin
        if helper.corrections:
            reading.corrected_query, reading.verbatim_query = _queries(raw, helper.corrections)
    common = stopwords_only(parsed.node)
    if common:
        reading.warnings.append(f"{common} is too common to search on its own; try a phrase")
    return reading


def stopwords_only(node: Node) -> str | None:
    """The words typed, when every one of them is a stopword (``的``, ``of the``); else ``None``."""
    typed = [n.text for n in _leaves(node)]
    if not typed or any(query_terms(text) for text in typed):
        return None
    return " ".join(typed)


def typed_words(node: Node | None) -> dict[str, list[str]]:
    """The searched words as the user typed them, per language (``climate change``, not its
    stems ``climat chang``); Chinese as analyzed (one script)."""
    out: dict[str, list[str]] = {"zh": [], "en": []}
    for leaf in _leaves(node) if node is not None else ():
        for tok in query_terms(leaf.text):
            word = tok.term if tok.lang == "zh" else leaf.text[tok.start : tok.end]
            bucket = out.get(tok.lang)
            if bucket is not None and word not in bucket:
                bucket.append(word)
    return out


def _leaves(node: Node):
    """The words and phrases searched for (not those excluded)."""
    if isinstance(node, Not):
        return
    if isinstance(node, (Word, Phrase)):
        yield node
        return
    for child in node.children:
        yield from _leaves(child)


class _Helper:
    def __init__(self, view: View) -> None:
        self.view = view
        self.corrections: list[dict] = []
        self.pinyin: list[dict] = []
        self._held: dict[str, int] = {}

    def node(self, node: Node, negated: bool) -> Node:
        if isinstance(node, Not):
            return Not(self.node(node.child, not negated))
        if isinstance(node, Word):
            found = None if negated else self._pinyin([node])
            return found if found is not None else self._correct(node)
        if isinstance(node, Phrase):
            return node
        children = self._runs(node.children) if isinstance(node, Pref) and not negated else list(node.children)
        return type(node)([child.node if isinstance(child, _Done) else self.node(child, negated) for child in children])

    def _runs(self, children: list[Node]) -> list[Node | _Done]:
        """Children with each run of two or more words typed side by side that reads as pinyin replaced."""
        out: list[Node | _Done] = []
        i = 0
        while i < len(children):
            for j in range(min(len(children), i + MAX_PINYIN_RUN), i + 1, -1):
                run = children[i:j]
                if all(isinstance(c, Word) and c.field == run[0].field for c in run):
                    found = self._pinyin(run)
                    if found is not None:
                        out.append(_Done(found))
                        i = j
                        break
            else:
                out.append(children[i])
                i += 1
        return out

    # --- pinyin ---------------------------------------------------------------------------

    def _pinyin(self, run: list[Word]) -> Node | None:
        texts = [w.text for w in run]
        joined = "".join(texts).lower()
        if not all(is_pinyin(t) for t in texts) or len(joined) < 2 * MIN_CHARS:
            return None
        if all(self._english(t) for t in texts):
            return None  # English words that happen to spell syllables: women, long, dance
        ranked = self._chinese(joined)
        if not ranked:
            return None
        english = max(self._frequency(t) for t in texts)
        if english >= ranked[0][1]:
            return None  # an English word of the index more common than its pinyin reading: SANTA is not 三塔
        words = [word for word, _ in ranked]
        self.pinyin.append({"typed": " ".join(texts), "words": words})
        typed: Node = run[0] if len(run) == 1 else Pref(list(run))
        alternatives = [Phrase(w, run[0].field) for w in words]
        if english:
            alternatives.insert(0, typed)
        return alternatives[0] if len(alternatives) == 1 else Or(alternatives)

    def _chinese(self, key: str) -> list[tuple[str, int]]:
        """The index's Chinese words (or a dictionary word made of them) read ``key``, most frequent first."""
        table = self.view.pinyin_table()
        cuts = table.split(key)
        if not cuts:
            return []
        lex = lexicon()
        candidates: set[str] = set()
        for cut in cuts:
            if len(cut) == 1:
                candidates.update(cut[0])
            else:  # several index words: only a dictionary word made of them (一带 + 一路 = 一带一路)
                candidates.update(w for w in _joined(cut) if lex.has_zh(w))
        ranked = self._rank_zh(candidates)
        if not ranked:
            return []
        top = ranked[0][1]
        return [(w, df) for w, df in ranked if df >= MIN_PINYIN_SHARE * top][:MAX_PINYIN_WORDS]

    def _rank_zh(self, words: set[str]) -> list[tuple[str, int]]:
        terms = {w: [t.term for t in query_terms(w) if t.lang == "zh"] for w in words}
        found = self.view.frequencies({(f, t) for ts in terms.values() for t in ts for f in ZH_FIELDS})
        scored = []
        for word, ts in terms.items():
            df = min((max(found[(f, t)] for f in ZH_FIELDS) for t in ts), default=0)
            if df > 0:
                scored.append((word, df))
        return sorted(scored, key=lambda item: (-item[1], item[0]))

    # --- typos ----------------------------------------------------------------------------

    def _correct(self, node: Word) -> Word:
        text = node.text
        changed = text
        found: list[dict] = []
        for tok in reversed(query_terms(text)):  # from the end: earlier offsets stay valid
            typed = text[tok.start : tok.end]
            if tok.lang != "en" or not correctable(typed) or self._english(typed) or self._in_index(typed):
                continue
            fixed = self._nearest(typed, tok.term)
            if fixed is not None:
                changed = changed[: tok.start] + fixed + changed[tok.end :]
                found.insert(0, {"typed": typed, "corrected": fixed})
        self.corrections += found
        return Word(changed, node.field) if changed != text else node

    def _nearest(self, typed: str, term: str) -> str | None:
        edits = allowed_edits(typed)
        candidates = self.view.similar_terms(LATIN_FIELDS, term, edits)
        for word, count in self._speaker_words().items():
            distance = OSA.distance(term, word)
            if 0 < distance <= edits and (word not in candidates or candidates[word][1] < count):
                candidates[word] = (int(distance), count)
        choice = best({t: e for t, (e, _) in candidates.items()}, {t: n for t, (_, n) in candidates.items()})
        return surface(typed, term, choice) if choice is not None else None

    def _speaker_words(self) -> dict[str, int]:
        """Stems of the words of the English names of the people the index quotes → articles
        quoting them; kept with the directory they were read from (one box per index state,
        refilled when the backend renews its directory)."""
        directory = self.view.speaker_directory()
        box = self.view.memo("speaker-words", lambda: [None, {}])
        if box[0] is not directory:
            out: dict[str, int] = {}
            for entry in directory.values():
                for word in re.findall(r"[A-Za-z]+", entry["names"].get("en") or ""):
                    key = stem(word.lower())
                    out[key] = max(out.get(key, 0), int(entry.get("count", 0)))
            box[:] = [directory, out]
        return box[1]

    # --- what the index and the lexicon know ---------------------------------------------

    def _in_index(self, typed: str) -> bool:
        """Whether the index holds the word (its stem), in any field."""
        return self._frequency(typed) > 0

    def _frequency(self, typed: str) -> int:
        """Articles holding the word (its stems; the field holding it most)."""
        terms = [t.term for t in query_terms(typed) if t.lang == "en"]
        if not terms:
            return 0
        key = " ".join(terms)
        if key not in self._held:
            found = self.view.frequencies([(f, t) for t in terms for f in LATIN_FIELDS])
            self._held[key] = min(max(found[(f, t)] for f in LATIN_FIELDS) for t in terms)
        return self._held[key]

    @staticmethod
    def _english(typed: str) -> bool:
        """Whether the word is English the engine knows: a function word (an, is, being: no
        translation, so not in the lexicon), or a word or name the translation lexicon has."""
        lower = typed.lower()
        if is_stopword(lower) or lower in UNTRANSLATED_EN or lower in NO_PHRASE_START or is_stopword(word_key(typed)):
            return True
        lex = lexicon()
        key = word_key(typed)
        return bool(key) and (lex.has_en((key,)) or bool(lex.en_exact(typed)) or lower in lex.irregular)


@dataclass
class _Done:
    """A node already rewritten (a pinyin run), not to be visited again."""

    node: Node


def _joined(cut: list[list[str]], limit: int = 512) -> list[str]:
    """Every concatenation of one word per piece (at most ``limit``)."""
    out = [""]
    for words in cut:
        out = [a + b for a in out for b in words][:limit]
    return out


def _queries(raw: str, corrections: list[dict]) -> tuple[str, str]:
    """The query with each corrected word replaced, and with each quoted (searched as typed)."""
    corrected = verbatim = raw
    for item in corrections:
        pattern = re.compile(rf"(?<![\w\"]){re.escape(item['typed'])}(?![\w\"])")
        corrected = pattern.sub(item["corrected"], corrected, count=1)
        verbatim = pattern.sub(f'"{item["typed"]}"', verbatim, count=1)
    return corrected, verbatim
