"""Near-duplicate articles: MinHash signatures over script-normalized shingles, grouped with LSH.

Text is compared after normalization: full width folded (NFKC), Chinese converted to
simplified (OpenCC ``t2s``), lowercased, punctuation dropped. So a traditional copy of a
simplified article has the same shingles. Shingles are runs of ``SHINGLE[lang]`` tokens
(Chinese: each Han character, digit or Latin letter; English: each word or number), one
signature per language of the article: a bilingual article is a duplicate of a copy
holding only one of its languages.

Grouping is incremental and deterministic: an article arriving joins the group of its
most similar earlier article (estimated Jaccard similarity at least ``VERIFY`` in one
language, or the shorter text contained in the longer: an abridged re-filing) published
at most ``DATE_WINDOW`` days after that group's first article, else starts its own group
named by its id. The permutations come from a fixed seed and the hash is CRC-32, so the
same articles in the same order give the same groups.

An article in one language that matches nothing in its own language may join the group of its
translation in the other language (:mod:`search.crosslink`; ``CROSSLINK``).
"""

from __future__ import annotations

import os
import re
import struct
import unicodedata
import zlib
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable

import numpy as np

from search import crosslink
from search.analysis.convert import to_simplified
from search.crosslink import CrossLinker
from search.errors import WriterProcessError
from search.model import LANGS, Article
from search.processes import Helper, HelperDied, worker_of

NUM_PERM = 64
SEED = 16
#: Tokens per shingle: five characters, three English words.
SHINGLE = {"zh": 5, "en": 3}
#: LSH recall threshold (bands are chosen for it), then the similarity a candidate must reach.
LSH_THRESHOLD = 0.3
#: ``(bands, rows)``: what datasketch's ``MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)``
#: chooses (tests/test_dedup.py checks it).
LSH_BANDS = (21, 3)
VERIFY = 0.65
#: ... or the shorter text's shingles mostly in the longer one (an abridged or extended
#: re-filing), estimated from the similarity and both sizes; only for texts this long.
CONTAIN = 0.85
CONTAIN_MIN_SHINGLES = 30
#: Copies of one story appear within this many days of each other (a daily report with the
#: same wording on another day is another story).
DATE_WINDOW = 3
#: Texts with fewer shingles than this only match an exact copy (a one-line notice is no story).
MIN_SHINGLES = 12
#: Link an article to its translation in the other language (search/crosslink.py); read when a
#: :class:`Deduper` is made (``False``: grouping within each language only).
CROSSLINK = True
#: Bits kept of each MinHash value (b-bit minwise hashing, Li and König 2010): the lowest 16 bits of
#: the minimum. Two different values agree by chance with probability 2**-16, which moves an
#: estimated similarity by at most 1/65,536 (a sixty-fourth is one permutation), and a signature
#: takes 128 bytes instead of 256: 5.1 MB less in the index of the shared corpora (38,637 articles).
BITS = 16
_MASK = np.uint32((1 << BITS) - 1)
#: Bumped when shingles or hashing change: stored signatures of another version are recomputed.
#: Version 3 adds the cross-language features, version 4 stores ``BITS``-bit values; versions 2
#: and 3 are still read (version 2 without features), their 32-bit values cut to ``BITS`` bits.
VERSION = 4
_READABLE = (2, 3, 4)
_VALUE_BYTES = {2: 4, 3: 4, 4: 2}

_EN_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|[0-9]+(?:[.,][0-9]+)*")


def _affine32_permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's ``MinHash(num_perm, seed, scheme="affine32").permutations``: ``h -> a * h + b``
    modulo 2**32 with ``a`` odd. Computed here: importing datasketch imports scipy (its LSH
    integrates error probabilities), a second of every indexing run's start."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (datasketch's ``_fmix(values, 32)``)."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


_PERMUTATIONS = _affine32_permutations(NUM_PERM, SEED)
_MULTIPLIER = np.uint64(0x100000001B3)  # FNV's prime: mixes a shingle's tokens in order
_token_hashes: dict[str, int] = {}


def normalize(text: str) -> str:
    """The text as compared: width folded, simplified script, lowercase."""
    return to_simplified(unicodedata.normalize("NFKC", text)).lower()


def normalized(text: str, lang: str) -> str:
    """The text of one language as compared: :func:`normalize` (English needs no script conversion)."""
    return normalize(text) if lang == "zh" else unicodedata.normalize("NFKC", text).lower()


def tokens(text: str, lang: str) -> np.ndarray:
    """The tokens of ``text`` as numbers. ``zh``: every Han character (simplified), digit and
    Latin letter, by code point, so a templated report with other figures stays apart;
    ``en``: every word and number (CRC-32)."""
    return _tokens(normalized(text, lang), lang)


def _tokens(text: str, lang: str) -> np.ndarray:
    if lang == "zh":
        points = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
        keep = ((points >= 0x3400) & (points <= 0x9FFF)) | ((points >= 0x30) & (points <= 0x39)) | ((points >= 0x61) & (points <= 0x7A))
        return points[keep].astype(np.uint64)
    found = _EN_TOKEN.findall(text)
    cache = _token_hashes
    values = list(map(cache.get, found))
    if None in values:
        if len(cache) > 500_000:
            cache.clear()
        for n, token in enumerate(found):
            if values[n] is None:
                values[n] = cache[token] = zlib.crc32(token.encode("utf-8"))
    return np.array(values, dtype=np.uint64)


def shingles(text: str, lang: str) -> np.ndarray:
    """The distinct shingles of ``text`` (``SHINGLE[lang]`` consecutive tokens), as 32-bit hashes."""
    return _shingles(tokens(text, lang), lang)


def _shingles(values: np.ndarray, lang: str) -> np.ndarray:
    k = min(SHINGLE[lang], len(values))
    if k == 0:
        return np.zeros(0, dtype=np.uint32)
    count = len(values) - k + 1
    mixed = np.zeros(count, dtype=np.uint64)
    for offset in range(k):
        mixed = mixed * _MULTIPLIER + values[offset : offset + count]
    return np.unique((mixed ^ (mixed >> np.uint64(32))).astype(np.uint32))


@dataclass(frozen=True)
class Signature:
    """One language's MinHash of an article, and whether it is long enough to compare loosely."""

    hashvalues: np.ndarray  # NUM_PERM values (datasketch's affine32 scheme, lowest BITS bits), uint32
    size: int  # distinct shingles

    @property
    def short(self) -> bool:
        return self.size < MIN_SHINGLES

    def similarity(self, other: "Signature") -> float:
        """Estimated Jaccard similarity of the two shingle sets (short texts: 1 or 0, exact copy or not)."""
        if self.short or other.short:
            return 1.0 if np.array_equal(self.hashvalues, other.hashvalues) else 0.0
        return float(np.count_nonzero(self.hashvalues == other.hashvalues)) / NUM_PERM

    def matches(self, other: "Signature") -> float:
        """How much the two are one text: the similarity, or the containment of the smaller in the
        larger when that passes ``CONTAIN``; 0 when neither passes."""
        jaccard = self.similarity(other)
        if jaccard >= VERIFY:
            return jaccard
        smaller = min(self.size, other.size)
        if smaller >= CONTAIN_MIN_SHINGLES and jaccard > 0:
            contained = jaccard * (self.size + other.size) / (1 + jaccard) / smaller
            if contained >= CONTAIN:
                return jaccard
        return 0.0


def minhash(hashes: np.ndarray) -> np.ndarray:
    """datasketch's MinHash of 32-bit ``hashes`` (what ``MinHash.update_batch`` computes, with
    an identity hash function), in one array operation instead of a Python loop, each value cut
    to its lowest ``BITS`` bits."""
    a, b = _PERMUTATIONS
    mixed = _fmix32(hashes.astype(np.uint32))
    values = np.multiply(a[:, None], mixed[None, :])
    np.add(values, b[:, None], out=values)
    return values.min(axis=1) & _MASK


def signatures(article: Article) -> dict[str, Signature]:
    """One signature per language the article has text in (title and body)."""
    return fingerprint(article, link=False)[0]


def fingerprint(article: Article, link: bool = True) -> tuple[dict[str, Signature], "Features | None"]:
    """The article's :func:`signatures` and (``link``) its cross-language features
    (:mod:`search.crosslink`), each language's text normalized once for both:
    width folding and script conversion are a tenth of what grouping costs."""
    return fingerprint_texts(*compared_texts(article), link)


def compared_texts(article: Article) -> tuple[tuple[str, ...], tuple[tuple[str, str, str], ...]]:
    """What :func:`fingerprint` reads of an article: its languages, and ``(lang, title, body)``
    for each language with a title or body (a small thing to send to another process)."""
    texts = tuple((lang, article.text("title", lang) or "", article.text("body", lang) or "") for lang in LANGS)
    return tuple(article.languages), tuple(t for t in texts if t[1] or t[2])


def fingerprint_texts(languages: tuple[str, ...], texts: tuple[tuple[str, str, str], ...], link: bool = True) -> tuple[dict[str, Signature], "Features | None"]:
    """:func:`fingerprint` of :func:`compared_texts`."""
    sigs: dict[str, Signature] = {}
    feats = None
    single = languages[0] if link and len(languages) == 1 else None
    for lang, title, body in texts:
        text = normalized("\n".join(part for part in (title, body) if part), lang)
        found = _shingles(_tokens(text, lang), lang)
        if len(found):
            sigs[lang] = Signature(minhash(found), len(found))
        if lang == single:
            # The lead (title and crosslink.LEAD characters of the body) cut from the normalized text: width folding and script
            # conversion keep lengths but for rare characters, so it is the same few hundred characters.
            cut = len(title) + 1 + crosslink.LEAD[lang] if title else crosslink.LEAD[lang]
            array = crosslink.as_array(crosslink.normalized_feature_set(text[:cut], lang))
            feats = (lang, array) if len(array) else None
    return sigs, feats


def features(article: Article) -> "Features | None":
    """``(language, features)`` of an article written in one language (:mod:`search.crosslink`),
    as the indexer stores them; ``None`` for a bilingual article (its halves meet their copies
    through the MinHash signatures) or an empty one."""
    return fingerprint(article)[1]


def _fingerprint_chunk(chunk: list, link: bool) -> list:
    return [fingerprint_texts(languages, texts, link) for languages, texts in chunk]


def _start_worker(parent: int) -> None:
    from search import lexicon as lexicon_module

    worker_of(parent)
    lexicon_module._instance = None  # its SQLite connection was the parent's: open one of this process


class Fingerprinter:
    """Fingerprints of arriving articles, computed ahead in a helper process when ``parallel``.

    Grouping must take articles one at a time in order, but their fingerprints (three quarters
    of its cost: segmenting, script conversion, MinHash) need not: the indexing process hands
    them to a helper and groups each article when its fingerprint is back, instead of leaving
    the writer processes waiting while it segments the next Chinese article.

    >>> f = Fingerprinter(link=True, parallel=False)
    >>> [(key, sorted(sigs)) for key, sigs, _ in f.push("a", Article("a", body={"en": "Oil prices rose."}))]
    [('a', ['en'])]
    """

    CHUNK = 32  # articles per task: one round trip for many
    AHEAD = 8  # tasks in flight

    def __init__(self, link: bool, parallel: bool) -> None:
        self.link = link
        self.parallel = parallel
        self._pool = None
        if parallel:
            # fork: the helper starts with the dictionaries loaded; if it dies, the next
            # question to it fails (HelperDied) instead of waiting for ever.
            self._pool = Helper(_start_worker, (os.getpid(),))
        self._keys: list = []
        self._chunk: list = []
        self._flight: list = []  # (keys, future), oldest first

    def push(self, key, article: Article) -> Iterable[tuple[object, dict[str, Signature], "Features | None"]]:
        """Take one article; give back ``(key, signatures, features)`` of those ready, in order."""
        if self._pool is None:
            return [(key, *fingerprint(article, self.link))]
        self._keys.append(key)
        self._chunk.append(compared_texts(article))
        if len(self._chunk) < self.CHUNK:
            return []
        self._send()
        return self._receive(len(self._flight) - self.AHEAD)

    def drain(self) -> Iterable[tuple[object, dict[str, Signature], "Features | None"]]:
        """Everything still on its way, in order."""
        if self._chunk:
            self._send()
        return self._receive(len(self._flight))

    def close(self) -> None:
        self._keys, self._chunk, self._flight = [], [], []
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def _send(self) -> None:
        try:
            future = self._pool.submit(_fingerprint_chunk, self._chunk, self.link)
        except HelperDied as error:
            raise _died() from error
        self._flight.append((self._keys, future))
        self._keys, self._chunk = [], []

    def _receive(self, count: int) -> list:
        """The oldest ``count`` tasks' results (waiting for them), and those of the tasks after
        them that are done already: the first articles go on to the writer processes as soon as
        their fingerprints are back, not after :data:`AHEAD` more tasks are sent."""
        out = []
        count = max(0, count)
        while self._flight and (count > 0 or self._flight[0][1].done()):
            count -= 1
            keys, future = self._flight.pop(0)
            try:
                found = future.result()
            except HelperDied as error:
                raise _died() from error
            out.extend((key, sigs, feats) for key, (sigs, feats) in zip(keys, found))
        return out


def _died() -> WriterProcessError:
    return WriterProcessError("a writer process died (the one finding near-duplicates); nothing of this batch was committed: run the same command again")


Features = tuple[str, np.ndarray]  # an article's language and its cross-language features


def encode(sigs: dict[str, Signature], feats: Features | None = None) -> bytes:
    """Signatures as bytes for the index: version, how many, then per language its code, size,
    values; then the cross-language features (language code, values) if any."""
    parts = [struct.pack("<BB", VERSION, len(sigs))]
    for lang, sig in sigs.items():
        parts.append(lang.encode("ascii") + struct.pack("<I", sig.size) + sig.hashvalues.astype("<u2").tobytes())
    if feats is not None:
        parts.append(feats[0].encode("ascii") + feats[1].astype("<u4").tobytes())
    return b"".join(parts)


def decode(data: bytes) -> dict[str, Signature] | None:
    """The signatures :func:`encode` wrote; ``None`` for another version or no data."""
    found = decode_all(data)
    return found[0] if found else None


def decode_all(data: bytes) -> tuple[dict[str, Signature], Features | None] | None:
    """The signatures and cross-language features :func:`encode` wrote; ``None`` for another
    version or no data (version 2: signatures only)."""
    if not data or data[0] not in _READABLE:
        return None
    width = _VALUE_BYTES[data[0]]
    step = 6 + width * NUM_PERM
    if data[0] == 2:
        start, count = 1, (len(data) - 1) // step
    else:
        start, count = 2, data[1]
    out: dict[str, Signature] = {}
    for start in range(start, start + count * step, step):
        lang = data[start : start + 2].decode("ascii")
        (size,) = struct.unpack("<I", data[start + 2 : start + 6])
        values = np.frombuffer(data[start + 6 : start + step], dtype=f"<u{width}").astype(np.uint32) & _MASK
        out[lang] = Signature(values, size)
    rest = data[2 + count * step :] if data[0] >= 3 else b""
    feats = (rest[:2].decode("ascii"), np.frombuffer(rest[2:], dtype="<u4").astype(np.uint32)) if len(rest) > 2 else None
    return out, feats


class BandLSH:
    """MinHash LSH by banding, as datasketch's ``MinHashLSH`` does it: a key is a candidate of a
    signature when all ``rows`` values of one of the first ``bands`` bands are equal.

    >>> lsh = BandLSH(2, 2)
    >>> lsh.insert("a", np.array([1, 2, 3, 4], dtype=np.uint32))
    >>> sorted(lsh.query(np.array([9, 9, 3, 4], dtype=np.uint32))), lsh.query(np.array([1, 9, 9, 4], dtype=np.uint32))
    (['a'], set())
    """

    def __init__(self, bands: int, rows: int) -> None:
        self.bands, self.rows = bands, rows
        # band → the key holding it, or the set of keys when several do (most bands are one
        # key's: a string is not a set to build, and a load of 38,637 articles' bands took 40 %
        # less time and a fifth less memory than with a set per band)
        self.tables: list[dict[bytes, str | set[str]]] = [{} for _ in range(bands)]
        self.keys: dict[str, list[list[bytes]]] = {}  # key -> its bands, per insertion

    def _bands(self, values: np.ndarray) -> list[bytes]:
        raw = values.astype(np.uint32).tobytes()
        step = 4 * self.rows
        return [raw[start : start + step] for start in range(0, step * self.bands, step)]

    def insert(self, key: str, values: np.ndarray) -> None:
        bands = self._bands(values)
        self.keys.setdefault(key, []).append(bands)
        for table, band in zip(self.tables, bands):
            found = table.get(band)
            if found is None:
                table[band] = key
            elif type(found) is str:
                if found != key:
                    table[band] = {found, key}
            else:
                found.add(key)

    def remove(self, key: str) -> None:
        for bands in self.keys.pop(key):
            for table, band in zip(self.tables, bands):
                found = table.get(band)
                if found is None:
                    continue
                if type(found) is str:
                    if found == key:
                        del table[band]
                    continue
                found.discard(key)
                if len(found) == 1:
                    (table[band],) = found
                elif not found:
                    del table[band]

    def query(self, values: np.ndarray) -> set[str]:
        out: set[str] = set()
        for table, band in zip(self.tables, self._bands(values)):
            found = table.get(band)
            if found is None:
                continue
            if type(found) is str:
                out.add(found)
            else:
                out |= found
        return out


@dataclass
class Deduper:
    """The LSH of every article's signatures, and each article's group.

    >>> d = Deduper()
    >>> d.add("a", signatures(Article("a", body={"zh": "中俄關係" * 20})))
    'a'
    >>> d.add("b", signatures(Article("b", body={"zh": "中俄关系" * 20})))
    'a'
    """

    lsh: "BandLSH" = field(default_factory=lambda: BandLSH(*LSH_BANDS))
    sigs: dict[str, dict[str, Signature]] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    exact: dict[tuple[str, bytes], str] = field(default_factory=dict)  # short texts: (lang, values) → an article id
    days: dict[str, int] = field(default_factory=dict)  # article id → date.toordinal() of dated articles
    translations: bool = field(default_factory=lambda: CROSSLINK)  # also link translations (search/crosslink.py)
    cross: CrossLinker = field(default_factory=CrossLinker)
    group_langs: dict[str, dict[str, int]] = field(default_factory=dict)  # group → its members' languages, counted

    def load(self, article_id: str, sigs: dict[str, Signature], group: str, day: int | None = None, feats: Features | None = None) -> None:
        """Put an already grouped article back (rebuilding the state from the index)."""
        self.sigs[article_id] = sigs
        self.groups[article_id] = group
        langs = self.group_langs.get(group)
        if langs is None:
            self.group_langs[group] = dict.fromkeys(sigs, 1)
        else:
            for lang in sigs:
                langs[lang] = langs.get(lang, 0) + 1
        if day is not None:
            self.days[article_id] = day
        if feats is not None and self.translations:
            self.cross.load(article_id, feats[0], feats[1], day)
        for lang, sig in sigs.items():
            if sig.short:
                self.exact.setdefault((lang, sig.hashvalues.tobytes()), article_id)
            else:
                self.lsh.insert(f"{article_id}\x00{lang}", sig.hashvalues)

    def remove(self, article_id: str) -> None:
        for lang, sig in self.sigs.pop(article_id, {}).items():
            if sig.short:
                key = (lang, sig.hashvalues.tobytes())
                if self.exact.get(key) == article_id:
                    del self.exact[key]
            else:
                self.lsh.remove(f"{article_id}\x00{lang}")
            langs = self.group_langs.get(self.groups.get(article_id, ""))
            if langs is not None:
                langs[lang] -= 1
        self.groups.pop(article_id, None)
        self.days.pop(article_id, None)
        self.cross.remove(article_id)

    def best_match(self, article_id: str, sigs: dict[str, Signature], day: int | None = None) -> tuple[str, float] | None:
        """The most similar article already added within the date window (ties: the smaller id),
        with its similarity."""
        scores: dict[str, float] = {}
        for lang, sig in sigs.items():
            if sig.short:
                other = self.exact.get((lang, sig.hashvalues.tobytes()))
                candidates = [other] if other else []
            else:
                candidates = [key.split("\x00", 1)[0] for key in self.lsh.query(sig.hashvalues)]
            for other in candidates:
                if day is not None and abs(self.days.get(self.groups.get(other, other), day) - day) > DATE_WINDOW:
                    continue  # measured from the group's first article: daily reports do not chain
                theirs = self.sigs.get(other, {}).get(lang) if other != article_id else None
                if theirs is not None:
                    scores[other] = max(scores.get(other, 0.0), sig.matches(theirs))
        passing = [(-score, other) for other, score in scores.items() if score > 0]
        if not passing:
            return None
        score, other = min(passing)
        return other, -score

    def translation_of(self, feats: Features, day: int | None) -> tuple[str, float] | None:
        """The article ``feats`` are a translation of (:mod:`search.crosslink`), among those whose
        group has no article in this language yet, with the similarity."""
        lang = feats[0]

        def free(other: str) -> bool:
            return self.group_langs.get(self.groups[other], {}).get(lang, 0) <= 0

        return self.cross.best_match(lang, feats[1], day, free)

    def add(self, article_id: str, sigs: dict[str, Signature], day: int | None = None, feats: Features | None = None) -> str:
        """Group ``article_id`` (replacing what it was; ``day``: its date's ordinal; ``feats``: its
        cross-language features) and return its group."""
        if article_id in self.sigs:
            self.remove(article_id)
        match = self.best_match(article_id, sigs, day)
        if match is None and feats is not None and self.translations:
            match = self.translation_of(feats, day)
        group = self.groups[match[0]] if match else article_id
        self.load(article_id, sigs, group, day, feats)
        return group


def group_all(articles: Iterable[Article], translations: bool | None = None) -> dict[str, str]:
    """Group articles in the order given: article id → group id (benchmarks, tests)."""
    deduper = Deduper(translations=CROSSLINK if translations is None else translations)
    link = deduper.translations
    out = {}
    for article in articles:
        sigs, feats = fingerprint(article, link)
        out[article.id] = deduper.add(article.id, sigs, day_of(article), feats)
    return out


def day_of(article: Article) -> int | None:
    """The ordinal of the article's own calendar day (its time zone), ``None`` if undated."""
    return article.date.date().toordinal() if article.date else None


def ordinal_of(day: int | None) -> int | None:
    """The ordinal of an index's ``day`` value (YYYYMMDD), ``None`` when undated (0 or out of range)."""
    return date(day // 10000, day // 100 % 100, day % 100).toordinal() if day and 10000101 <= day <= 99991231 else None


__all__ = ["Deduper", "Fingerprinter", "Signature", "decode", "decode_all", "encode", "features", "compared_texts", "fingerprint", "fingerprint_texts", "group_all", "normalize", "normalized", "ordinal_of", "shingles", "signatures"]
