"""Who is quoted: speaker extraction in Chinese and English, one identity per person.

Chinese: a person name (jieba's ``nr`` tags, or a known name such as 普京) at the
head of the clause before a speech verb (指出, 强调, 表示, 说, 认为…), titles
dropped (国家主席习近平 → 习近平). English: ``X said``, ``said X``, ``X, …, said``,
``For his part, Putin said``, titles dropped (Chinese President Xi Jinping → Xi
Jinping); ``he said`` goes to the last person named in the paragraph or the one
before. Names become :class:`~search.model.Speaker` identities through
:mod:`search.lexicon.people` (習近平 = Xi Jinping = Xi).

>>> [(s.id, s.quotes) for s in extract_speakers({"zh": "普京表示，双方关系很好。他说，合作会继续。"})]
[('vladimir-putin', 2)]
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import rjieba

from search.analysis.convert import to_simplified, to_simplified_lines
from search.lexicon.entities import OTHER, PERSON, PLACE
from search.lexicon.people import Person, people, pinyin_name
from search.lexicon.sound import similarity
from search.model import Speaker

# --- Chinese ---------------------------------------------------------------------------

ZH_VERBS = frozenset(
    "指出 强调 表示 说 认为 称 介绍 宣布 要求 透露 坦言 告诉 回应 补充 承认 呼吁 提到 谈到 说道 写道 直言 否认 重申 表态 警告 敦促 声称 指称 "
    "宣称 辩称 批评 称赞 赞赏 解释 反驳 补充道 介绍说 提醒".split()
)
_ZH_VERB_ALT = "|".join(sorted(ZH_VERBS, key=len, reverse=True))
_ZH_VERB_HINT = re.compile(_ZH_VERB_ALT)
_ZH_SENTENCE = re.compile(r"[^。！？!?；;\n]+")
_ZH_CLAUSE_BREAKS = frozenset("，,：:“”\"「」『』（）()")  # each a token of its own
_ZH_PRONOUNS = frozenset({"他", "她"})
_ZH_NOT_SPEAKER = frozenset({"记者", "主持人", "播音员", "编辑", "摄影", "通讯员"})
# A title right before the name: 总统普京, 新闻秘书佩斯科夫, 外交部长瑟比加, 特别代表库普曼斯.
_ZH_TITLES = (
    "国家主席|主席|副主席|总统|副总统|总理|副总理|首相|总书记|书记|部长|外长|外交部长|国务卿|秘书长|秘书|发言人|大使|"
    "代表|特使|主任|局长|院长|校长|会长|董事长|总裁|首席执行官|经理|总干事|议长|主席团主席|国王|王储|亲王|女王|市长|州长|省长|"
    "司令|参谋长|专家|教授|研究员|学者|得主|负责人|创始人|理事长|行长|总督|总经理"
)
_ZH_TIME = r"(?:当天|当日|日前|近日|今天|昨天|前一天|同日|随后|也|还|则|再次|此前|\d{1,2}日|在[^，。、]{0,24}?(?:上|中|时|后|期间))*"
_ZH_TITLED = re.compile(rf"(?:{_ZH_TITLES})(?P<name>[\u4e00-\u9fff]{{1,8}}(?:·[\u4e00-\u9fff]{{1,8}})*?){_ZH_TIME}(?={_ZH_VERB_ALT})")
_ZH_DOTTED = re.compile(r"[\u4e00-\u9fff]{1,8}(?:·[\u4e00-\u9fff]{1,8})+")


def _zh_clause_speakers(sentence: str, article: str = "") -> list[tuple[str, str]]:
    """``(kind, name)`` attributions in a sentence: kind is ``name`` or ``pronoun``.

    ``article`` is the whole text: it says when a name is a place or a group (别尔哥罗德州, 胡塞武装).
    """
    found: list[tuple[str, str]] = []
    titled = {m.end(): _trim_zh(m.group("name")) for m in _ZH_TITLED.finditer(sentence)}
    known = people().by_zh
    clause: list[tuple[str, str]] = []
    sentence_subject: tuple[str, str] | None = None
    first_clause = True
    offset = 0
    for word, tag in _split_glued_verb(_merge_dotted(rjieba.tag(sentence), sentence)):
        start = offset
        offset += len(word)
        if word in _ZH_CLAUSE_BREAKS:
            if first_clause:
                sentence_subject = _zh_subject(clause, known, article)
            first_clause = False
            clause = []
            continue
        if _is_speech_verb(word, tag) and not _CEREMONY.match(sentence, offset):
            names = []
            adjacent = _name_before(sentence[:start], article)
            if adjacent:
                subject = _zh_subject(clause, known, article)
                if subject and subject[0] == "name" and subject[1] not in adjacent and _word_then(sentence[:start], subject[1], _AND_NEXT):
                    found.append(subject)  # 卢拉与阿根廷总统费尔南德斯表示: both speak
                found.append(("name", adjacent))
                if first_clause:
                    sentence_subject = ("name", adjacent)
                clause = []
                continue
            by_title = _titled_name(titled, start, article)
            if by_title:
                names.append(("name", by_title))
            subject = _zh_subject(clause, known, article)
            if subject is None and not clause_has_other_subject(clause):
                subject = sentence_subject
            if subject and (subject[0] == "pronoun" or all(subject[1] not in n[1] and n[1] not in subject[1] for n in names)):
                if not (subject[0] == "pronoun" and names):
                    names.append(subject)
            found.extend(names)
            if first_clause and names:
                sentence_subject = names[0]
            clause = []
            continue
        clause.append((word, tag))
    return found


#: Words ending in 说 that are not a name's last character glued to the verb.
_SHUO_WORDS = frozenset("据说 听说 就说 再说 或说 来说 虽说 所说 是说 还说 也说 又说 都说 却说 曾说 便说 只说 小说 学说 演说 游说 劝说 解说 传说 胡说 诉说 述说 照说 话说 比如说 一般说 不用说 好说 难说".split())


def _split_glued_verb(tokens: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """丁 / 明说: jieba glues a given name's last character to 说; give it back to the name."""
    out: list[tuple[str, str]] = []
    for word, tag in tokens:
        if 2 <= len(word) <= 4 and word.endswith("说") and word[-2:] not in _SHUO_WORDS and word[-3:] not in _SHUO_WORDS and _is_han(word):
            out += [(word[:-1], "nr" if tag.startswith("nr") or len(word) == 2 else tag), ("说", "v")]  # 加维说, 文中说
        else:
            out.append((word, tag))
    return out


#: What may stand between a name and its verb: time words, places of speaking, honorifics,
#: the name's original in brackets (多米尼克•拉布（Dominic Raab）表示).
_ZH_BEFORE_VERB = re.compile(
    r"(?:同一天|前一天|当天|当日|日前|近日|今天|昨天|今日|昨日|同日|随后|此前|早些时候|本周|上周|本月|上月|今年|去年|对外|公开|再次|也|还|则|又|都|曾|已|均|同时|分别|"
    r"\d{1,2}日|[（(][^（）()]{1,40}[）)]|在[^，。、；]{0,24}?(?:上|中|时|后|期间|前)|(?:对|向|跟)[^，。、；“”·]{1,12}?|"
    r"院士|教授|先生|女士|博士|同志|总书记|主席|委员长|议员|律师|老师|医生|夫人)+$"
)
#: Where a name may start: a clause start, punctuation, a title, 的 / 之一 / 据 / 与 / 和.
_ZH_NAME_START = re.compile(
    rf"[，。；：、“”‘’\"\s《》（）()—]|(?:与会|员工|职工|工人|人员|村民|居民|市民|学生|农民|网民|游客|{_ZH_TITLES}|司长|处长|站长|场长|社长|台长|队长|厂长|所长|"
    r"领袖|顾问|官|员|家|人|之一|的|据|与|和|及|同)"
)
#: Names of institutions and groups: not people, unless jieba knows the word as a name.
_ZH_ORG_END = re.compile(r"(?:方|部|局|院|委|会|厅|署|办|处|所|站|队|组|团|社|台|报|网|馆|校|司|行|厂|店|中心|公司|集团|政府|机构|部门|媒体|民众|群众|警方)$")


def _name_before(head: str, article: str) -> str | None:
    """The name right before a speech verb (``head`` ends where the verb starts), or None.

    Reads characters, not jieba's words, so 丁明说, 连新明说 and 邱腾华表示 give the
    whole name; the name starts after the last clause break, title or function word
    that leaves a valid name (王和平: 和 is not where it starts).
    """
    head = _ZH_BEFORE_VERB.sub("", head)
    if not head or not _is_han(head[-1]):
        return None
    starts = sorted({0, *(m.end() for m in _ZH_NAME_START.finditer(head))}, reverse=True)
    if "·" in head:  # last resort: a dotted name starts where its transliteration characters start
        first = head.rfind("·")
        while first > 0 and head.rfind("·", 0, first) >= first - 8 and head.rfind("·", 0, first) >= 0:
            first = head.rfind("·", 0, first)
        begin = first
        while begin > 0 and head[begin - 1] in people().translit_chars and first - begin < 6:
            begin -= 1
        starts.append(begin)
    for begin in starts:
        name = head[begin:]
        plain = name.replace("·", "")
        if len(plain) < 2:
            continue
        if len(plain) > (20 if "·" in name else 10):
            break
        if len(plain) > 4 and not ("·" in name or _foreign(name)):
            continue
        if _ZH_ORG_END.search(name) and name not in people().by_zh:
            tags = rjieba.tag(name)
            if not (len(tags) == 1 and tags[0][1].startswith("nr")):
                continue
        if _valid_zh_name(name, article):
            return name
    return None


#: What follows a verb when it is a gesture, not speech: 表示敬意, 表示感谢, 宣布……开幕.
_CEREMONY = re.compile(r"(?:敬意|感谢|谢意|祝贺|哀悼|慰问|[^，。；]{0,24}?(?:开幕|闭幕)[。，；]?$)")


def _is_speech_verb(word: str, tag: str) -> bool:
    if word in ZH_VERBS:
        return tag.startswith("v") or word in ("表示", "指出", "强调")
    # jieba glues a date to the verb: 20日称.
    return len(word) == 2 and word[0] in "日天时" and word[1] in ZH_VERBS


def clause_has_other_subject(clause: list[tuple[str, str]]) -> bool:
    """A clause with its own nominal subject (中方强调, 大家表示) does not inherit the sentence's."""
    return any(tag in ("n", "nt", "nz", "r", "j") for _, tag in clause[-2:])


def _titled_name(titled: dict[int, str], verb_start: int, context: str) -> str | None:
    """The name a title regex found for the verb starting at ``verb_start`` (time words in between allowed)."""
    for end, name in titled.items():
        if end == verb_start:
            return name if _valid_zh_name(name, context) else None
    return None


_OTHER_DOTS = ("•", "・", "‧")  # written for the middle dot ·
_DOTS = ("·", *_OTHER_DOTS)


def _merge_dotted(tokens: list[tuple[str, str]], sentence: str) -> list[tuple[str, str]]:
    """Join 罗伯特 · 塔扬 into one name token (jieba splits at the middle dot); ``tokens`` are
    ``sentence``'s (most have no dot: nothing to join)."""
    if not any(dot in sentence for dot in _DOTS):
        return tokens
    tokens = [("·", "x") if w in _OTHER_DOTS else (w, t) for w, t in tokens]
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        word, tag = tokens[i]
        while i + 2 < len(tokens) and tokens[i + 1][0] == "·" and _is_han(tokens[i + 2][0]):
            word = f"{word}·{tokens[i + 2][0]}"
            tag = "nr"
            i += 2
        out.append((word, tag))
        i += 1
    return out


def _is_han(word: str) -> bool:
    return bool(word) and all("\u3400" <= ch <= "\u9fff" for ch in word)


#: Time words and adverbs jieba or the title pattern leave glued to a name (习近平近日, 普京当天).
_ZH_TRAILING = re.compile(r"(?:当天|当日|日前|近日|今天|昨天|今日|昨日|同日|随后|此前|再次|也|还|则|又|都|等|\d{1,2}日)+$")
#: A name never ends with a title (德国总理 is a title without a name).
_ZH_TITLE_END = re.compile(r"(?:总理|总统|主席|首相|外长|部长|国王|议长|大使|发言人|秘书长|代表|官员|专家|人士)$")
#: Groups named after a place (乌军, 巴武装, 俄方): never a person.
_ZH_GROUP_END = re.compile(r"(?:军|军方|武装|部队|方面|当局|政府|官方|方)$")
#: One-character country abbreviations (乌军, 巴武装).
_ZH_COUNTRY_ABBR = frozenset("中美俄乌英法德日韩朝印巴以伊叙土越老柬泰缅菲欧非澳加墨意西葡荷比瑞挪丹芬波捷匈罗保塞克希埃沙黎苏阿也约")
#: Words after a name in the article that make it a place or a group (别尔哥罗德州, 胡塞武装, 扎波罗热核电站).
_ZH_PLACE_MARK = "州|市|省|地区|方向|核电站|武装|组织|运动|集团|民兵|政府军|共和国|王国|港|岛"
#: Characters that are not in names (function words): 也在, 在国家, 方只是.
_ZH_NOT_IN_NAME = frozenset("在是的了也都还就将已曾只被把从为他她它们")
#: Function-word tags: such a token before a name is not part of it (向王毅表示, 同普京会谈).
_ZH_FUNCTION_TAGS = ("p", "c", "d", "r", "u", "v", "f", "m", "q", "t", "y", "e", "o", "x")


@lru_cache(maxsize=1)
def _surnames() -> frozenset[str]:
    return frozenset(people().entities.surnames | set(people().surnames))


def _trim_zh(name: str) -> str:
    """``普京当天`` → ``普京``: time words and adverbs are not part of a name."""
    trimmed = _ZH_TRAILING.sub("", name)
    return trimmed if len(trimmed.replace("·", "")) >= 2 else name


def _valid_zh_name(name: str, context: str = "") -> bool:
    """Is ``name`` a person's name? Known people are; places, groups, titles and words are not;
    otherwise a Chinese name (a surname and one or two characters) or a transliterated one."""
    plain = name.replace("·", "")
    if not _is_han(plain) or not 2 <= len(plain) <= (20 if "·" in name else 10):
        return False
    lex = people()
    if name in lex.by_zh:
        return True
    if name in lex.places_zh or _ZH_TITLE_END.search(name):
        return False
    kind = people().entities.kind_zh(name)
    if kind is not None and kind != PERSON:
        return False  # CC-CEDICT knows it as a word, a place or an organisation (白宫, 沙特, 顾问, 多次)
    group = _ZH_GROUP_END.search(name)
    if group:
        head = name[: group.start()]
        if not head or head in lex.places_zh or all(ch in _ZH_COUNTRY_ABBR for ch in head):
            return False
    if context and _word_then(context, name, _PLACE_MARK_NEXT):
        return False
    if "·" not in name and not _foreign(name) and any(
        people().entities.kind_zh(name[:k]) in (PLACE, OTHER) and (k >= 3 or name[:k] in people().entities.proper) or name[:k] in lex.places_zh
        for k in range(2, len(plain))
    ):
        return False  # 乌克兰国家, 美国宪法: a place and a word, not a name
    kinds = people().entities
    if "·" not in name and any(
        (name[:k] in kinds.proper or name[:k] in lex.places_zh) and kinds.kind_zh(name[k:]) is not None for k in range(2, len(plain) - 1)
    ):
        return False  # 乌克兰 + 国家 even though every character could spell a foreign name
    if any(ch in _ZH_NOT_IN_NAME for ch in plain) or plain[0] in "一二三四五六七八九十两几":
        return False  # 也在, 方只是: function words, not a name
    if "·" in name:
        # every part spelled like a name (罗伯特·塔扬), not a phrase ending in one (边防局的首席运营官亚历山大·林德)
        table = people().translit_chars
        return all(part and sum(ch not in table for ch in part) <= max(1, len(part) // 3) for part in name.split("·"))
    if _foreign(name):
        return True
    if len(plain) >= 3 and sum(ch not in people().translit_chars for ch in plain) <= 1 and not context.count(name + "的"):
        return True  # 哈比卜: a transliteration with one uncommon character
    surnames = _surnames()
    if plain[:2] in surnames and len(plain) <= 4:
        return True
    if plain[:1] in surnames and len(plain) <= 3:
        if len(plain) == 3 and (people().entities.kind_zh(plain[:2]) is not None or people().entities.kind_zh(plain[1:]) is not None):
            # 安全观 is 安全 + 观, 会嘉宾 is 会 + 嘉宾: words, unless jieba knows the whole as a name
            tags = rjieba.tag(plain)
            return len(tags) == 1 and tags[0][1].startswith("nr")
        return True
    return False


def _zh_subject(clause: list[tuple[str, str]], known: dict, context: str = "") -> tuple[str, str] | None:
    """The first person named in the clause (its subject), or a pronoun."""
    i = 0
    while i < len(clause):
        word, tag = clause[i]
        if word in _ZH_NOT_SPEAKER:
            return None
        if word in _ZH_PRONOUNS:
            return ("pronoun", word)
        if _is_zh_name(word, tag, known) or (i > 0 and _after_title(clause[i - 1][0]) and _foreign(word)):
            if i + 1 < len(clause) and clause[i + 1][0] == "的" or i > 0 and clause[i - 1][1] == "v":
                i += 1  # 袭击X的嫌疑人: X is an attribute or an object, not the one speaking
                continue
            name = _with_piece_before(clause, i, known)
            # jieba splits names: surname + given name, or a foreign name in pieces
            # (谢夫乔 / 维奇, 库普 / 曼斯): join the following name-like pieces.
            while i + 1 < len(clause):
                nxt, nxt_tag = clause[i + 1]
                if _ZH_TRAILING.fullmatch(nxt):
                    break
                if nxt_tag.startswith("nr") and len(name) + len(nxt) <= 4 or (_foreign(name) and _foreign(nxt) and len(name) + len(nxt) <= 10):
                    i += 1
                    name += nxt
                elif i + 2 == len(clause) and len(nxt) == 1 and len(name) == 3 and name[:2] in _surnames() and nxt_tag in ("a", "nr", "ng", "n"):
                    i += 1  # 欧阳明 / 高: a double surname's given name runs to the verb
                    name += nxt
                else:
                    break
            name = _trim_zh(name)
            if _valid_zh_name(name, context):
                return ("name", name)
        i += 1
    return None


def _with_piece_before(clause: list[tuple[str, str]], i: int, known: dict) -> str:
    """jieba cuts names: a surname off its given name (丁 / 薛祥, 范 / 明政), the start of a
    transliteration off the rest (泽 / 连斯基, 古 / 特雷斯, 佩 / 斯科夫): take that piece back."""
    name = clause[i][0]
    if i == 0 or name in known:
        return name
    prev, prev_tag = clause[i - 1]
    measure = prev_tag in ("q", "m", "x") and len(prev) == 1 and _foreign(prev)  # the 米 of 米舒斯京, the 姆 of 姆努钦
    if (prev_tag.startswith(_ZH_FUNCTION_TAGS) and not measure) or _after_title(prev) or prev in people().places_zh:
        return name
    joined = prev + name
    if joined in known:
        return joined
    if _foreign(name) and _foreign(prev) and len(prev) <= 2:
        return joined
    if len(prev) == 1 and prev in _surnames() and len(name) <= 2 and not _foreign(name):
        return joined
    return name


def _foreign(word: str) -> bool:
    """Spelled only with transliteration characters (佩斯科夫, 曼斯)."""
    table = people().translit_chars
    return bool(word) and all(ch in table or ch == "·" for ch in word)


def _after_title(word: str) -> bool:
    return bool(re.fullmatch(f"(?:{_ZH_TITLES})", word)) or word.endswith(("总统", "总理", "部长", "主席", "代表", "秘书", "外长", "大使"))


def _is_zh_name(word: str, tag: str, known: dict) -> bool:
    if word in known:
        return True
    plain = word.replace("·", "")
    return tag in ("nr", "nrfg", "nrt") and _is_han(plain) and len(plain) >= 2


_HARD_WRAP = re.compile(r"\n[ \t]+\S")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|\n[ \t]+")


def paragraphs(text: str) -> list[str]:
    """Split into paragraphs; hard-wrapped text (indented paragraph starts, as in newswire)
    has its inner line breaks joined."""
    if _HARD_WRAP.search(text):
        return [" ".join(part.split()) for part in _PARAGRAPH_BREAK.split(text) if part.strip()]
    return [part for part in text.split("\n") if part.strip()]


def _dots(text: str) -> str:
    """One middle dot in names: 多米尼克•拉布 and 多米尼克・拉布 are 多米尼克·拉布."""
    return text.replace("•", "·").replace("・", "·").replace("‧", "·")


def extract_zh(text: str) -> list[list[tuple[str, str]]]:
    """Per paragraph, the ``(kind, name)`` attributions in order."""
    out = []
    article = _dots(to_simplified(text))
    parts = paragraphs(text)
    # One call of OpenCC for the paragraphs (a news story has about seven): each converts as alone.
    for simplified in map(_dots, to_simplified_lines(parts)):
        attributions: list[tuple[str, str]] = []
        if _ZH_VERB_HINT.search(simplified):
            for sentence in _ZH_SENTENCE.findall(simplified):
                if _ZH_VERB_HINT.search(sentence):
                    attributions.extend(_zh_clause_speakers(sentence, article))
        out.append(attributions)
    return out


# --- English ---------------------------------------------------------------------------

_EN_VERBS = r"(?:said|says|told|added|stated|noted|stressed|explained|warned|urged|argued|insisted|recalled|remarked|announced|declared)"
_CAP = r"(?:[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+(?:[-'’][A-Za-zÀ-ÿ][a-zß-öø-ÿ]+)*|[A-Z]\.(?:[A-Z]\.)*|Mc[A-Z][a-z]+|O'[A-Z][a-z]+)"
_NAME = rf"{_CAP}(?:\s+(?:{_CAP}|(?:de|van|von|der|bin|al|da|di|le|la)\b))*"
_EN_BEFORE = re.compile(rf"(?<![\w.])(?P<name>{_NAME})(?:\s*,(?P<app>(?:[^,.;\"“”]|\.(?=\S)){{2,160}}),)?,?\s+(?:also\s+|later\s+|then\s+)?{_EN_VERBS}\b")
_EN_AFTER = re.compile(rf"\b(?!told\b){_EN_VERBS}\s+(?P<name>{_NAME})")  # "told X": X listens
_EN_PRONOUN = re.compile(rf"\b(?:(?P<p1>[Hh]e|[Ss]he)\s+(?:also\s+|later\s+)?{_EN_VERBS}|{_EN_VERBS}\s+(?P<p2>he|she))\b")
# Each pattern above needs a speech verb: a paragraph without one is not searched with them
# (7 % of the extraction's time on the 6,000-article sample, same speakers).
_EN_ANY_VERB = re.compile(rf"\b{_EN_VERBS}")

_TITLES = frozenset(
    """president premier prime minister secretary chairman chairwoman chief executive officer director general
    governor senator sen rep representative mr mrs ms dr prof professor foreign finance treasury trade vice deputy
    king queen prince princess spokesman spokeswoman spokesperson ambassador chancellor commissioner analyst economist
    state defense defence interior energy agriculture commerce labor labour justice attorney assistant under acting
    former senior managing executive vice-president president-elect leader speaker mayor judge general admiral colonel
    captain lieutenant sergeant envoy counselor councillor councilor official minister-president party head
    chinese russian american british french german japanese indian brazilian south african us u.s. uk un
    soviet canadian australian italian spanish korean iranian iraqi israeli saudi egyptian mexican dutch swiss
    swedish norwegian danish belgian austrian polish turkish greek ukrainian pakistani indonesian malaysian
    thai vietnamese philippine singaporean kuwaiti venezuelan nigerian argentine chilean colombian peruvian
    the for his her its part but and in on at by according when while as after before also however meanwhile
    commenting asked speaking""".split()
)
_NOT_TITLES_BUT_ORG = frozenset("opec ec imf fed federal reserve bank world economic development central national".split())
_ORG_WORDS = frozenset(
    """inc corp co ltd llc plc ag sa nv bank group company corporation association ministry department agency reuters
    xinhua exchange board commission council fund committee government union unions party industries securities trust office
    institute university airlines airways motors petroleum oil energy systems international national partners capital
    holdings services financial communications electric steel chemical chemicals foods products resources mining
    investment investors insurance brokers analysts officials sources house senate congress parliament court
    administration authority bureau center centre council court commission cooperative federation league ministry
    news times journal post television radio agency press network market markets street wall stock stocks""".split()
)
_NOT_NAMES = frozenset(
    """it this that these those they there he she we i you the a an its his her their one some many most several both all
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
    september october november december today yesterday tomorrow earlier later also but and or so then yet however
    meanwhile separately officials analysts sources traders dealers economists china russia japan america europe
    britain france germany india brazil canada australia italy spain korea iran iraq israel egypt mexico taiwan
    beijing moscow washington london paris tokyo kazan hong kong pravda tass izvestia kyodo interfax xinhua reuters""".split()
)


_NATIONALITIES = frozenset("chinese russian american british french german japanese indian brazilian us u.s. uk un".split())
_FILLERS = frozenset("the for his her its part but and in on at by according when while as after before also however meanwhile commenting asked speaking".split())


def _strip_titles(name: str) -> tuple[str, bool]:
    """Drop leading titles and sentence fillers; ``titled`` is True only for a real title.

    A title inside the span ends what comes before it: "Alabama Senator Doug Jones" → Doug Jones.
    """
    words = name.split()
    inner = [i for i, w in enumerate(words[:-1]) if w.lower().strip(".") in _TITLES - _FILLERS - _NATIONALITIES]
    if inner and inner[-1] > 0 and _is_given_name(words[inner[-1] + 1]):
        return " ".join(words[inner[-1] + 1 :]), True
    titled = False
    while words and words[0].lower().strip(".") in _TITLES:
        if words[0].lower().strip(".") not in _FILLERS:
            titled = True
        words.pop(0)
    return " ".join(words), titled


def _en_person(
    raw: str,
    context: list[Person],
    companies: frozenset[str] = frozenset(),
    surnames: frozenset[str] = frozenset(),
) -> str | None:
    """The person's name in ``raw`` (a capitalized span before/after a speech verb), or None."""
    name, titled = _strip_titles(raw)
    words = name.split()
    lowered = [w.lower().strip(".,'’") for w in words]
    if len(words) > 4 or any(part in _ORG_WORDS for w in lowered for part in re.split(r"[-'’]", w)):
        # "… Administrative Region Matthew Cheung Kin-chung said": the name is the tail after a title
        for k in (3, 2):
            tail = words[-k:]
            if len(words) > k and _is_given_name(tail[0]) and not any(w.lower().strip(".,") in _ORG_WORDS | _TITLES for w in tail):
                return " ".join(tail)
        return None
    if not words:
        return None
    if any(w in _NOT_TITLES_BUT_ORG for w in lowered):
        return None
    lex = people()
    if name.lower() in lex.places_en or name.lower() in companies:
        return None
    if len(words) == 1:
        # A bare surname ("Baker said") is a person when the article names that person in full
        # (James Baker, Treasury Secretary Baker) or the lexicon knows the name; otherwise it is
        # as likely a company or a newspaper ("Bundesbank said", "Pravda said").
        if lowered[0] in companies or lowered[0] in _NOT_NAMES or len(lowered[0]) < 2:
            return None
        if titled or lowered[0] in surnames or any(p.en and lowered[0] in p.en.lower().split() for p in context):
            return name
        if lowered[0] in lex.by_en or len(lex.by_surname.get(lowered[0], ())) == 1:
            return name
        return None
    if lowered[0] in _NOT_NAMES or lowered[-1] in _NOT_NAMES:
        return None
    # Two or more capitalized words are a person when they start with a given name or an
    # initial, follow a title, or are a name the lexicon knows; "Computer Terminal" is not.
    if titled or re.fullmatch(r"[A-Z]\.(?:[A-Z]\.)*", words[0]) or _is_given_name(words[0]):
        return name
    if name.lower() in people().by_en:
        return name
    return None


def _is_given_name(word: str) -> bool:
    return word.lower() in people().given_names


_COMPANY = re.compile(rf"(?P<name>{_NAME})\s+(?:Inc|Corp|Co|Ltd|LLC|Plc|PLC|AG|SA|NV|Corporation|Company|Group|Bank|Industries|Holdings)\b")


_FULL_NAME = re.compile(rf"(?<![\w.])(?P<name>{_NAME})")


def surnames_in(text: str) -> frozenset[str]:
    """Last names of people named in full in ``text``: a given name or a title before them
    (Agriculture Secretary Richard Lyng → lyng)."""
    out: set[str] = set()
    for match in _FULL_NAME.finditer(text):
        words = match.group("name").split()
        if len(words) < 2 or any(w.lower().strip(".,") in _ORG_WORDS for w in words):
            continue
        for i, word in enumerate(words[:-1]):
            lowered = word.lower().strip(".")
            if _is_given_name(word) or re.fullmatch(r"[A-Z]\.", word) or (lowered in _TITLES and lowered not in _FILLERS):
                out.add(words[-1].lower())
                break
    return frozenset(out)


def companies_in(text: str) -> frozenset[str]:
    """Lowercase company names and their words in ``text`` ("Texaco Inc" → texaco), so a later
    "Texaco said" is not taken for a person."""
    out: set[str] = set()
    for match in _COMPANY.finditer(text):
        name, _ = _strip_titles(match.group("name"))
        if name:
            out.add(name.lower())
            out.update(word.lower() for word in name.split())
    return frozenset(out)


def extract_en(text: str, *, article: str | None = None, known: frozenset[str] = frozenset()) -> list[list[tuple[str, str, int]]]:
    """Per paragraph, ``(kind, name, offset)`` attributions in text order.

    ``article`` (default: ``text``) is where company names are learned from;
    ``known`` are lowercase surnames taken to be people (the other half's speakers).
    """
    out: list[list[tuple[str, str, int]]] = []
    context: list[Person] = []
    lex = people()
    whole = article if article is not None else text
    companies: frozenset[str] | None = None  # read from the whole article once a paragraph may quote someone
    surnames: frozenset[str] = frozenset()
    for paragraph in paragraphs(text):
        found: list[tuple[str, str, int]] = []
        if not _EN_ANY_VERB.search(paragraph):
            out.append(found)
            continue
        if companies is None:  # 19 % of the Reuters stories have no speech verb at all
            companies = companies_in(whole)
            surnames = (surnames_in(whole) | known) - companies
        spans: list[tuple[int, int]] = []
        for pattern in (_EN_BEFORE, _EN_AFTER):
            for match in pattern.finditer(paragraph):
                before = paragraph[max(0, match.start("name") - 6) : match.start("name")].lower()
                name = _en_person(match.group("name"), context, companies, surnames)
                if not name and pattern is _EN_BEFORE and match.group("app"):
                    # "… Administrative Region, Paul Chan Mo-po, said": the person is the apposition
                    apposition = _FULL_NAME.fullmatch(match.group("app").strip())
                    name = _en_person(apposition.group(0), context, companies, surnames) if apposition else None
                    if name and len(name.split()) < 2:
                        name = None
                # a full name after a title inside the span ("… Region Matthew Cheung Kin-chung said")
                inside = bool(name) and len(name.split()) > 1 and not match.group("name").startswith(name)
                if pattern is _EN_BEFORE and not inside and re.search(r"\b(?:of|from|at|for|with|to|by)\s+$", before):
                    continue
                if name and not any(a <= match.start("name") < b for a, b in spans):
                    found.append(("name", name, match.start()))
                    spans.append(match.span("name"))
                    context.append(lex.from_english(name, context))
        for match in _EN_PRONOUN.finditer(paragraph):
            found.append(("pronoun", (match.group("p1") or match.group("p2")).lower(), match.start()))
        found.sort(key=lambda item: item[2])
        out.append(found)
    return out


# --- Identity --------------------------------------------------------------------------


@dataclass
class _Tally:
    person: Person
    quotes: int = 0
    zh_name: str | None = None
    en_name: str | None = None
    langs: set[str] = field(default_factory=set)
    first: int = 0  # order of first quote within its half


def extract_speakers(body: dict[str, str | None], *, article: dict[str, str | None] | None = None) -> list[Speaker]:
    """Speakers of an article from its Chinese and English bodies, most quoted first.

    ``article`` (default: ``body``) is the whole text company names are learned from.
    """
    lex = people()
    tallies: dict[str, _Tally] = {}

    def credit(person: Person, lang: str, name: str) -> None:
        tally = tallies.setdefault(person.id, _Tally(person, first=len(tallies)))
        tally.quotes += 1
        tally.langs.add(lang)
        if lang == "zh" and not tally.zh_name:
            tally.zh_name = name
        if lang == "en" and not tally.en_name:
            tally.en_name = name

    zh_text = body.get("zh") or ""
    if zh_text:
        previous: Person | None = None
        for attributions in extract_zh(zh_text):
            last = previous
            for kind, name in attributions:
                if kind == "name":
                    last = lex.from_chinese(name)
                    credit(last, "zh", last.zh or name)
                elif last is not None:
                    credit(last, "zh", last.zh or "")
            previous = last if attributions else previous
    en_text = body.get("en") or ""
    if en_text:
        context: list[Person] = []
        previous = None
        others = _sounding_like([t.zh_name or t.person.zh or "" for t in tallies.values()], en_text)
        for attributions in extract_en(en_text, article=(article or body).get("en"), known=others):
            last = previous
            for kind, name, _ in attributions:
                if kind == "name":
                    last = lex.from_english(name, context)
                    context.append(last)
                    credit(last, "en", last.en or name)
                elif last is not None:
                    credit(last, "en", last.en or "")
            previous = last
    _pair_halves(tallies)
    if zh_text and en_text:
        _complete_names(tallies, _dots(to_simplified(zh_text)), en_text)
    speakers = [
        Speaker(
            id=t.person.id,
            names={"zh": t.person.zh or t.zh_name, "en": t.person.en or t.en_name},
            quotes=t.quotes,
        )
        for t in tallies.values()
    ]
    return sorted(speakers, key=lambda s: (-s.quotes, s.id))


_EN_WORD = re.compile(r"\b(?:O['’])?[A-Z][a-z]+(?:[-'’][A-Za-z][a-z]+)*\b")
#: Within one article the candidates are few: a looser bar than a query's (see search.lexicon.sound).
PAIR_THRESHOLD = 0.65


def _sounding_like(zh_names: list[str], en_text: str) -> frozenset[str]:
    """Capitalized words of the English half that are the Chinese half's speakers
    (帕利 → Parly, 索洛里奥 → Solorio): a bare surname is then known to be a person."""
    names = [n for n in zh_names if n]
    if not names:
        return frozenset()
    return frozenset(w.lower() for w in set(_EN_WORD.findall(en_text)) if any(_same_name(n, w) for n in names))


def _same_name(zh: str, en: str) -> bool:
    """Is ``en`` (a full name or a surname) the English form of ``zh``? By pinyin (张勇 = Zhang Yong)
    or, for a transliteration, by sound (帕利 = Parly, 马丁·兰德雷 = Landray)."""
    words = en.replace("-", " ").split()
    if not words or not zh:
        return False
    lex = people()
    pinyin = (pinyin_name(zh.replace("·", ""), lex.surnames) or "").lower().replace("-", " ").split() if _is_han(zh.replace("·", "")) else []
    lowered = [w.lower().replace("v", "u") if len(w) <= 4 else w.lower() for w in words]  # Lv Ling is 吕玲
    if pinyin and (lowered == pinyin or (len(lowered) == 1 and lowered[0] == pinyin[0]) or "".join(lowered) == "".join(pinyin)):
        return True
    return similarity(words[-1], zh.split("·")[-1]) >= PAIR_THRESHOLD


def _pair_halves(tallies: dict[str, _Tally]) -> None:
    """The same person in both halves of a bilingual article, quoted only in Chinese on one side
    and only in English on the other: first the names that are each other's pinyin or sound
    alike (帕利 = Parly), then what is left in quote order when both halves have as many."""
    zh_only = sorted((t for t in tallies.values() if t.langs == {"zh"}), key=lambda t: t.first)
    en_only = sorted((t for t in tallies.values() if t.langs == {"en"}), key=lambda t: t.first)
    pairs: list[tuple[_Tally, _Tally]] = []
    for zh in list(zh_only):
        name = zh.zh_name or zh.person.zh or ""
        match = next((en for en in en_only if _same_name(name, en.en_name or en.person.en or "")), None)
        if match is not None:
            pairs.append((zh, match))
            zh_only.remove(zh)
            en_only.remove(match)
    if zh_only and len(zh_only) == len(en_only) <= 3:
        pairs += list(zip(zh_only, en_only))
    for zh, en in pairs:
        merged = _Tally(
            Person(en.person.id, zh.person.zh or zh.zh_name, en.person.en or en.en_name),
            zh.quotes + en.quotes,
            zh.zh_name,
            en.en_name,
            {"zh", "en"},
            min(zh.first, en.first),
        )
        del tallies[zh.person.id]
        tallies[en.person.id] = merged


_EN_SPAN = re.compile(rf"(?<![\w.]){_NAME}")
_TRANSLIT_RUN = re.compile(r"[\u4e00-\u9fff]{2,10}(?:·[\u4e00-\u9fff]{1,10})*")


def _complete_names(tallies: dict[str, _Tally], zh_text: str, en_text: str) -> None:
    """A person quoted in one half is usually named in the other even when not quoted there:
    take that name. ``多米尼克·拉布（Dominic Raab）`` gives both; otherwise a capitalized name of the
    English half that sounds like the Chinese one (or is its pinyin), and the reverse."""
    for key, tally in list(tallies.items()):
        person = tally.person
        zh, en = person.zh or tally.zh_name, person.en or tally.en_name
        if tally.langs == {"zh"} and zh and (not person.en or not _in_text(person.en, en_text)):
            found = _english_for(zh, zh_text, en_text)
            if found:
                tally.person = Person(person.id, person.zh, found)
                tally.en_name = found
        elif tally.langs == {"en"} and en and not zh:
            found = _chinese_for(en, zh_text)
            if found:
                tally.person = Person(person.id, found, person.en)
                tally.zh_name = found


# Patterns around a name found in the text: compiled once (a pattern built per name, as
# re.search(re.escape(name) + ...), overflowed re's cache and was 15 % of speaker extraction).
_AND_NEXT = re.compile(r"(?:[（(][^）)]*[）)])?[与和及同]")
_PLACE_MARK_NEXT = re.compile(f"(?:{_ZH_PLACE_MARK})")
_ENGLISH_IN_PARENS = re.compile(r"\s*[（(]\s*([A-Z][^（）()]{1,60}?)\s*[）)]")
_NAME_OPENING_PARENS = re.compile(r"([\u4e00-\u9fff]{2,10}(?:·[\u4e00-\u9fff]{1,10})*)\s*[（(]\s*$")
_CLOSING_PARENS = re.compile(r"\s*[）)]")


def _word_then(text: str, word: str, pattern: re.Pattern) -> re.Match | None:
    """``pattern`` matched right after the first occurrence of ``word`` in ``text`` where it matches."""
    at = text.find(word) if word else -1
    while at >= 0:
        found = pattern.match(text, at + len(word))
        if found:
            return found
        at = text.find(word, at + 1)
    return None


def _name_before_parens(text: str, word: str) -> re.Match | None:
    """The Chinese name written before ``(word)`` in ``text``: 泽连斯基（Zelensky）."""
    at = text.find(word) if word else -1
    while at >= 0:
        if _CLOSING_PARENS.match(text, at + len(word)):
            found = _NAME_OPENING_PARENS.search(text, max(0, at - 80), at)
            if found:
                return found
        at = text.find(word, at + 1)
    return None


def _in_text(name: str, text: str) -> bool:
    return bool(name) and name in text


def _english_for(zh: str, zh_text: str, en_text: str) -> str | None:
    original = _word_then(zh_text, zh, _ENGLISH_IN_PARENS)
    if original:
        return original.group(1)
    for match in _EN_SPAN.finditer(en_text):
        span, _ = _strip_titles(match.group(0))
        words = span.split()
        if not words or len(words) > 4:
            continue
        last_zh = zh.split("·")[-1]
        whole = "".join(words[-2:])
        if _same_name(zh, span) or (len(words) > 1 and "·" in zh and max(similarity(words[-1], last_zh), similarity(whole, zh.replace("·", ""))) >= PAIR_THRESHOLD):
            return span
        if len(words) == 1 and similarity(words[0], last_zh) >= PAIR_THRESHOLD and _foreign(zh):
            return span
    return None


def _chinese_for(en: str, zh_text: str) -> str | None:
    original = _name_before_parens(zh_text, en)
    if original:
        return _name_before(original.group(1), "")
    words = en.split()
    for match in _TRANSLIT_RUN.finditer(zh_text):
        run = match.group(0)
        for size in range(min(len(run), 10), 1, -1):
            for start in range(0, len(run) - size + 1):
                piece = run[start : start + size]
                if piece.startswith("·") or piece.endswith("·"):
                    continue
                if len(words) >= 2 and not _foreign(piece):
                    if 2 <= len(piece) <= 3 and _same_name(piece, en) and _valid_zh_name(piece):
                        return piece
                elif _foreign(piece) and similarity(words[-1], piece.split("·")[-1]) >= 0.85:
                    return piece
    return None


def resolve_alias(name: str) -> list[str]:
    """Canonical ids a user-typed name may refer to (any alias, any script)."""
    return [person.id for person in people().lookup(name)]


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """What finds an article's speakers besides its text: this module, the lexicons and analysis
    it reads (their code and data files), the article model and the packages behind them. The
    indexer stores it in each article's digest: an article read again with the same text and
    the same fingerprint has the same speakers, so they are not looked for again."""
    from importlib.metadata import version

    from search.lexicon.cedict import data_fingerprint

    search = Path(__file__).resolve().parent.parent
    files = [Path(__file__).resolve(), search / "model.py"]
    for folder in ("lexicon", "analysis"):
        files += sorted(path for path in (search / folder).iterdir() if path.suffix in (".py", ".tsv", ".txt"))
    h = hashlib.sha256(data_fingerprint().encode())
    for path in files:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    h.update(",".join(version(name) for name in ("pypinyin", "rjieba", "OpenCC", "gender-guesser")).encode())
    return h.hexdigest()[:32]
