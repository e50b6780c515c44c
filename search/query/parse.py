"""Parse the query language into a small syntax tree, leniently.

Syntax: words (all present ranks first, any present still matches),
``"exact phrase"`` (also “…” and 「…」), ``AND``/``OR``/``NOT`` (upper case),
``-word``, parentheses, ``field:word`` / ``field:"phrase"``. Chinese quotation marks touching
Chinese text (``开辟“绿色通道”``) are the text's punctuation, part of the word; a page title's
trailing site names (``… - 新华网``) are read apart (:func:`source_names`). Malformed input
(unbalanced quotes or parentheses, a dangling operator) never fails: the
parser closes what is open and drops what is dangling, and says so in
``warnings``.

>>> parse('習近平 "一带一路" -Putin').node
Pref(children=[Word(text='習近平', field=None), Phrase(text='一带一路', field=None), Not(child=Word(text='Putin', field=None))])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union

from search.analysis.scripts import HAN_CHARACTERS

#: Field prefixes a user may type, mapped to index field groups by the builder.
FIELDS = ("title", "body")

#: Work is bounded: a query never expands to more than this many words/phrases.
MAX_CLAUSES = 64
MAX_DEPTH = 16
MAX_QUERY_CHARS = 2000

_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』", "＂": "＂"}
_OPEN = "(（"
_CLOSE = ")）"
_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<open>[(（])
      | (?P<close>[)）])
      | (?P<quote>["“「『＂])
      | (?P<word>[^\s()（）"“”「」『』＂]+)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Word:
    text: str
    field: str | None = None


@dataclass(frozen=True)
class Phrase:
    text: str
    field: str | None = None


@dataclass(frozen=True)
class Not:
    child: "Node"


@dataclass(frozen=True)
class And:
    children: list["Node"]


@dataclass(frozen=True)
class Or:
    children: list["Node"]


@dataclass(frozen=True)
class Pref:
    """Implicit conjunction: documents with every child rank first, any child matches."""

    children: list["Node"]


Node = Union[Word, Phrase, Not, And, Or, Pref]


@dataclass
class Parsed:
    node: Node | None
    warnings: list[str] = field(default_factory=list)
    #: Site names ending a pasted page title (``… - 新华网``): searched as optional words.
    sources: list[str] = field(default_factory=list)


@dataclass
class _Lexeme:
    kind: str  # word, phrase, open, close, and, or, not
    text: str = ""
    field: str | None = None
    negated: bool = False


def parse(text: str) -> Parsed:
    """Parse ``text``; never raises."""
    warnings: list[str] = []
    text = _clean(text)
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        warnings.append(f"query truncated to {MAX_QUERY_CHARS} characters")
    head, sources = source_names(text)
    lexemes = _lex(head, warnings)
    parser = _Parser(lexemes, warnings)
    node = parser.parse()
    if node is None and sources:  # nothing but names: they are the query
        node, sources = _Parser(_lex(text, warnings), warnings).parse(), []
    return Parsed(node, warnings, sources)


# A page title pasted from a browser or a feed ends with its site's name, after a dash, a bar or
# an underscore: ``…乡村振兴生力军-新华网``, ``… - 今日要闻 - 湖南日报网 - 华声在线``,
# ``… (VIDEO) - RT USA News``. The article rarely holds that name (a Xinhua story reprinted by
# another outlet, an English translation that says "Xinhua" or nothing), so requiring it would
# rank the article after every other one holding all the words. Those names are searched as
# optional words: they add to the score of articles that hold them, and no article is a
# complete match or a partial one for holding only them.
_HAN = HAN_CHARACTERS  # the analyzer's: what it indexes as Chinese reads as Chinese here
_HAN_CHAR = re.compile(f"[{_HAN}]")
#: a dash, bar or underscore with spaces around; a bar, a full-width bar or an underscore
#: without; a hyphen or en dash only between Chinese characters (``COVID-19`` is one word).
_SOURCE_SEP = re.compile(rf"\s+(?:[-–—|｜_]|——)\s+|\s*[|｜_]\s*|(?<=[{_HAN}”」』》）)])[-–](?=[{_HAN}])|(?P<dash>\s+-(?=[{_HAN}]))")
#: ``… -中新网`` (a space, then a dash touching the name) is how ``-word`` excludes a word; after a
#: title it reads as a site name only when the name ends as a news site's does, so that pasting
#: such a title does not exclude the site's own article (which names it: 中新网7月26日电).
_SITE_END = re.compile(r"(?:网|網|在线|在線|新闻|新聞|日报|日報|晚报|晚報|时报|時報|早报|早報|周报|週報|通讯社|通訊社|新华社|新華社|电视台|電視台|频道|頻道|客户端|客戶端)$")
_HAN_NAME = re.compile(rf"[{_HAN}0-9A-Za-z·]{{2,12}}")
_LATIN_NAME = re.compile(r"[A-Z0-9][\w&.'’]*(?: [\w&.'’]+){0,3}", re.ASCII)
MAX_SOURCE_NAMES = 3
#: a title before the names: this many Chinese characters or Latin words at least
MIN_TITLE_HAN, MIN_TITLE_WORDS = 8, 4


def source_names(text: str) -> tuple[str, list[str]]:
    """``text`` without the site names ending it, and those names (none unless ``text`` reads
    as a page title: a title, then up to three short names after dashes, bars or underscores).

    >>> source_names("黑土地“种”出农业现代化-新华网")
    ('黑土地“种”出农业现代化', ['新华网'])
    >>> source_names("Kanye West says he can beat Joe Biden - RT USA News")
    ('Kanye West says he can beat Joe Biden', ['RT USA News'])
    >>> source_names("Biden - Putin")
    ('Biden - Putin', [])
    """
    head, names = text.rstrip(), []
    while len(names) < MAX_SOURCE_NAMES:
        last = None
        for last in _SOURCE_SEP.finditer(head):
            pass
        if last is None or not _is_source_name(head[last.end():]):
            break
        if last.group("dash") and not _SITE_END.search(head[last.end():]):
            break
        names.insert(0, head[last.end():])
        head = head[: last.start()].rstrip()
    if not names or not _is_title(head, names):
        return text, []
    return head, names


def _is_source_name(name: str) -> bool:
    if _HAN_NAME.fullmatch(name) and any(_is_han(ch) for ch in name):
        return True
    if not _LATIN_NAME.fullmatch(name) or len(name) > 40:
        return False
    return not {"AND", "OR", "NOT"} & set(name.split())  # no colon either: a field prefix cannot be a name


def _is_title(head: str, names: list[str]) -> bool:
    if not head or head.split()[-1] in ("AND", "OR", "NOT"):
        return False
    han = len(_HAN_CHAR.findall(head))
    words = len(re.findall(r"[A-Za-z]+", head))
    return (han >= MIN_TITLE_HAN or words >= MIN_TITLE_WORDS) and len(head) > sum(len(n) for n in names)


def _is_han(ch: str) -> bool:
    return _HAN_CHAR.match(ch) is not None


def _clean(text: str) -> str:
    # Lone surrogates and control characters cannot be indexed text; drop them.
    return "".join(
        ch if ch.isprintable() or ch in "\t\n" else " "
        for ch in text
        if not 0xD800 <= ord(ch) <= 0xDFFF
    )


def _lex(text: str, warnings: list[str]) -> list[_Lexeme]:
    out: list[_Lexeme] = []
    pos = 0
    pending_field: str | None = None
    pending_neg = False
    word_end = -1  # where the last word lexeme ended (a quote touching it continues it)
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:  # a stray closing quote: skip it
            pos += 1
            continue
        kind = m.lastgroup
        pos = m.end()
        if kind == "space":
            pending_field, pending_neg = None, False
            continue
        if kind == "open":
            out.append(_Lexeme("open", field=pending_field, negated=pending_neg))
            pending_field, pending_neg = None, False
            continue
        if kind == "close":
            out.append(_Lexeme("close"))
            continue
        if kind == "quote" and not pending_field and not pending_neg and (glued := _glued_quote(text, m.start(), out, word_end)):
            # Chinese quotation marks inside a run of Chinese text (开辟“绿色通道”, 「境」在馬祖) are
            # the text's punctuation, as in the article: part of the word around them.
            end, merge = glued
            if merge:
                out[-1].text += text[m.start():end]
            else:
                out.append(_Lexeme("word", text[m.start():end]))
            pos = word_end = end
            continue
        if kind == "quote":
            closer = _QUOTES[m.group()]
            end = text.find(closer, pos)
            if end < 0:
                if "unbalanced quote: phrase closed at the end of the query" not in warnings:
                    warnings.append("unbalanced quote: phrase closed at the end of the query")
                end = len(text)
            phrase = text[pos:end]
            pos = min(len(text), end + 1)
            if phrase.strip():
                out.append(_Lexeme("phrase", phrase.strip(), pending_field, pending_neg))
            pending_field, pending_neg = None, False
            continue
        word = m.group()
        if m.start() == word_end and out and out[-1].kind == "word" and out[-1].text[-1:] in _CJK_CLOSERS and _is_han(word[0]):
            out[-1].text += word  # the Chinese after a glued quote: 「境」在馬祖
            pos = word_end = m.end()
            continue
        if word in ("AND", "OR", "NOT") and pending_field is None and not pending_neg:
            out.append(_Lexeme(word.lower()))
            continue
        if word.startswith("-") and len(word) > 1 and not pending_neg:
            pending_neg = True
            word = word[1:]
        elif word == "-":
            pending_neg = True
            continue
        name, colon, rest = word.partition(":")
        if colon and name.lower() in FIELDS:
            pending_field = name.lower()
            if rest:
                out.append(_Lexeme("word", rest, pending_field, pending_neg))
                pending_field, pending_neg = None, False
            continue  # a field prefix right before a quote or parenthesis
        if word.startswith("+"):
            word = word.lstrip("+")
            if not word:
                continue
        out.append(_Lexeme("word", word, pending_field, pending_neg))
        pending_field, pending_neg = None, False
        word_end = m.end()
    return out


_CJK_QUOTES = {"“": "”", "「": "」", "『": "』"}
_CJK_CLOSERS = set(_CJK_QUOTES.values())


def _glued_quote(text: str, start: int, out: list[_Lexeme], word_end: int) -> tuple[int, bool] | None:
    """Where a Chinese quotation that touches Chinese text ends, and whether it continues the
    word before it; ``None`` for a quotation standing apart (a phrase) or an ASCII quote."""
    closer = _CJK_QUOTES.get(text[start])
    end = text.find(closer, start + 1) if closer else -1
    if end < 0:
        return None
    merge = start == word_end and bool(out) and out[-1].kind == "word" and _is_han(text[start - 1])
    after = text[end + 1 : end + 2]
    if not merge and not (after and _is_han(after)):
        return None
    return end + 1, merge


class _Parser:
    def __init__(self, lexemes: list[_Lexeme], warnings: list[str]) -> None:
        self.lx = lexemes
        self.i = 0
        self.warnings = warnings
        self.clauses = 0
        self.depth = 0

    def peek(self) -> _Lexeme | None:
        return self.lx[self.i] if self.i < len(self.lx) else None

    def parse(self) -> Node | None:
        nodes: list[Node] = []
        while self.peek() is not None:
            node = self.sequence()
            if node is not None:
                nodes.append(node)
            nxt = self.peek()
            if nxt is not None and nxt.kind == "close":
                self._warn("unbalanced parenthesis: extra ')' ignored")
                self.i += 1
        return _simplify(Pref(nodes)) if nodes else None

    def sequence(self) -> Node | None:
        """Terms side by side (preferred together) or joined by AND (required together)."""
        groups: list[list[Node]] = []
        joined = False
        while (lx := self.peek()) is not None and lx.kind != "close":
            if lx.kind in ("and", "or"):
                self.i += 1
                if lx.kind == "and":
                    joined = bool(groups)
                continue
            node = self.alternatives()
            if node is None:
                continue
            if joined and groups:
                groups[-1].append(node)
            else:
                groups.append([node])
            joined = False
        items = [g[0] if len(g) == 1 else And(g) for g in groups]
        if not items:
            return None
        return items[0] if len(items) == 1 else Pref(items)

    def alternatives(self) -> Node | None:
        """OR binds tighter than the implicit AND: ``a OR b c`` is ``(a OR b) c``."""
        parts = [self.unary()]
        while (lx := self.peek()) is not None and lx.kind == "or":
            self.i += 1
            nxt = self.peek()
            if nxt is None or nxt.kind in ("and", "or", "close"):
                self._warn("OR without a following term ignored")
                break
            parts.append(self.unary())
        kept = [p for p in parts if p is not None]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else Or(kept)

    def unary(self) -> Node | None:
        lx = self.peek()
        if lx is None:
            return None
        if lx.kind == "not":
            negations = 0
            while (nxt := self.peek()) is not None and nxt.kind == "not":
                negations += 1
                self.i += 1
            if nxt is None or nxt.kind in ("and", "or", "close"):
                self._warn("NOT without a following term ignored")
                return None
            child = self.unary()
            if child is None or negations % 2 == 0:
                return child
            return child.child if isinstance(child, Not) else Not(child)
        if lx.kind in ("and", "or"):
            self.i += 1
            return None
        node = self.atom()
        if node is not None and lx.negated:
            node = Not(node)
        return node

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def _flatten(self, opener: _Lexeme) -> Node | None:
        """Past MAX_DEPTH, read the rest of the group iteratively: its words, without structure."""
        self._warn(f"parentheses nested deeper than {MAX_DEPTH}: the inner groups are searched as plain words")
        level = 1
        words: list[Node] = []
        while level and (lx := self.peek()) is not None:
            self.i += 1
            if lx.kind == "open":
                level += 1
            elif lx.kind == "close":
                level -= 1
            elif lx.kind in ("word", "phrase"):
                self.clauses += 1
                if self.clauses <= MAX_CLAUSES:
                    node: Node = (Word if lx.kind == "word" else Phrase)(lx.text, lx.field or opener.field)
                    words.append(Not(node) if lx.negated else node)
        if not words:
            return None
        return words[0] if len(words) == 1 else Pref(words)

    def atom(self) -> Node | None:
        lx = self.lx[self.i]
        self.i += 1
        if lx.kind == "open":
            if self.depth >= MAX_DEPTH:
                return self._flatten(lx)
            self.depth += 1
            inner = self.sequence()
            self.depth -= 1
            if inner is not None and lx.field:
                inner = _with_field(inner, lx.field)
            nxt = self.peek()
            if nxt is not None and nxt.kind == "close":
                self.i += 1
            else:
                self._warn("unbalanced parenthesis: closed at the end of the query")
            return inner
        if lx.kind in ("word", "phrase"):
            self.clauses += 1
            if self.clauses > MAX_CLAUSES:
                self._warn(f"only the first {MAX_CLAUSES} words and phrases are searched")
                return None
            cls = Word if lx.kind == "word" else Phrase
            return cls(lx.text, lx.field)
        if lx.kind == "and":
            return None
        return None  # a stray 'close' is handled by callers


def _simplify(node: Node) -> Node:
    if isinstance(node, (Pref, And, Or)) and len(node.children) == 1:
        return _simplify(node.children[0])
    return node


def _with_field(node: Node, name: str) -> Node:
    """Apply a ``field:( … )`` prefix to every word and phrase inside the group."""
    if isinstance(node, (Word, Phrase)):
        return node if node.field else type(node)(node.text, name)
    if isinstance(node, Not):
        return Not(_with_field(node.child, name))
    return type(node)([_with_field(child, name) for child in node.children])
