"""Snippets: which characters are marked, how fragments are cut, and safe HTML."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.highlight import Snippet, match_ranges, snippets, to_html

MARK = re.compile(r"<mark>(.*?)</mark>")
FILLER_ZH = "填充句子里面没有要找的东西" * 3
FILLER_EN = "Nothing to see in this filler sentence at all. "


def surfaces(text, ranges):
    return [text[a:b] for a, b in ranges]


# --- match_ranges -------------------------------------------------------------


def test_terms_are_found_in_the_original_traditional_text():
    text = "國家主席習近平同俄羅斯總統普京舉行會晤"
    assert surfaces(text, match_ranges(text, {"习近平", "普京"})) == ["習近平", "普京"]


def test_every_occurrence_is_marked_in_order():
    text = "Putin met Xi. Later Putin spoke."
    assert match_ranges(text, {"putin"}) == [(0, 5), (20, 25)]


def test_english_terms_match_any_inflection():
    text = "Cooperation and cooperating partners"
    assert surfaces(text, match_ranges(text, {"cooper"})) == ["Cooperation", "cooperating"]


def test_a_stem_inside_another_word_is_not_marked():
    # "eas" (eases) stands inside "increases" and "sea": only the words it begins are matches.
    text = "Tension eases as sea trade increases. Easing continued; o'eases"
    assert surfaces(text, match_ranges(text, {"eas"})) == ["eases", "Easing"]


def test_subword_marks_only_its_characters():
    assert match_ranges("中俄關係風雨兼程", {"关系"}) == [(2, 4)]


def test_overlapping_matches_merge_into_one_range():
    # the compound and its parts overlap: one mark, not three
    assert match_ranges("中俄關係風雨兼程", {"中俄关系", "关系", "中俄"}) == [(0, 4)]


def test_touching_matches_merge():
    assert match_ranges("中俄關係", {"中俄", "关系"}) == [(0, 4)]


def test_separate_matches_stay_separate():
    assert match_ranges("Putin Putin", {"putin"}) == [(0, 5), (6, 11)]


def test_phrase_marks_the_whole_phrase():
    text = "合作。上海合作組織峰會"
    assert surfaces(text, match_ranges(text, set(), [["上海", "合作", "组织"]])) == ["上海合作組織"]


def test_english_phrase_spans_the_words_and_spaces_between():
    text = "the Shanghai Cooperation Organization summit"
    assert surfaces(text, match_ranges(text, set(), [["shanghai", "cooper", "organiz"]])) == [
        "Shanghai Cooperation Organization"
    ]


def test_phrase_in_the_wrong_order_is_not_marked():
    assert match_ranges("一路一帶", set(), [["一带", "一路"]]) == []


def test_phrase_and_a_term_inside_it_merge():
    text = "上海合作組織峰會"
    assert match_ranges(text, {"合作"}, [["上海", "合作", "组织"]]) == [(0, 6)]


def test_no_terms_or_no_text_means_no_ranges():
    assert match_ranges("Putin", set()) == []
    assert match_ranges("", {"putin"}) == []
    assert match_ranges("Putin", {"xi"}) == []


# --- snippets -----------------------------------------------------------------


def spread_text():
    """Three matches far apart, separated by long filler."""
    return "。".join([FILLER_ZH] * 3 + ["普京发表讲话"] + [FILLER_ZH] * 3 + ["习近平表示欢迎"] + [FILLER_ZH] * 3 + ["普京与习近平会晤"] + [FILLER_ZH] * 3)


def test_fragments_surround_each_match_in_document_order():
    text = spread_text()
    got = snippets(text, {"普京", "习近平"}, width=40)
    assert len(got) == 3
    marked = [surfaces(s.text, s.marks) for s in got]
    assert marked == [["普京"], ["习近平"], ["普京", "习近平"]]
    for s in got:
        assert s.text.startswith("…") and s.text.endswith("…")


def test_count_limits_fragments_and_keeps_the_best():
    text = spread_text()
    (best,) = snippets(text, {"普京", "习近平"}, width=40, count=1)
    # the fragment with both words beats the fragments with one
    assert surfaces(best.text, best.marks) == ["普京", "习近平"]
    assert len(snippets(text, {"普京", "习近平"}, width=40, count=2)) == 2


@pytest.mark.parametrize("width", [30, 60, 120])
def test_fragment_width_is_bounded(width):
    text = (FILLER_EN * 5 + "Putin spoke. ") * 4 + FILLER_EN * 5
    for s in snippets(text, {"putin"}, width=width):
        assert len(s.text) <= width + 2  # plus an ellipsis on each side
        assert "Putin" in surfaces(s.text, s.marks)


def test_english_fragments_end_on_a_word_boundary():
    text = "Putin said " + "something rather long " * 20
    (s,) = snippets(text, {"putin"}, width=60)
    assert s.text.endswith("…")
    body = s.text.rstrip("…")
    assert text.startswith(body)
    assert text[len(body)] == " "  # the cut fell between words, not inside one


def test_fragment_starts_at_a_sentence_boundary_near_the_match():
    text = FILLER_EN * 3 + "Putin arrived in Kazan."
    (s,) = snippets(text, {"putin"}, width=80)
    assert s.text.startswith("…Putin arrived")


def test_marks_point_at_matched_words_after_ellipsis():
    text = FILLER_EN * 4 + "Xi met Putin." + FILLER_EN * 4
    (s,) = snippets(text, {"putin", "xi"}, width=60)
    assert s.text[0] == "…"
    assert surfaces(s.text, s.marks) == ["Xi", "Putin"]


def test_short_text_is_whole_without_ellipses():
    (s,) = snippets("Putin spoke.", {"putin"})
    assert s == Snippet("Putin spoke.", [(0, 5)])


def test_without_a_match_the_lead_of_the_text_is_shown_unmarked():
    text = "第一句话在这里。" + FILLER_ZH * 10
    got = snippets(text, {"普京"}, width=30)
    assert len(got) == 1
    assert got[0].marks == []
    assert got[0].text.startswith("第一句话在这里")  # no leading ellipsis: it is the start
    assert got[0].text.endswith("…")
    assert len(got[0].text) <= 31


def test_lead_of_a_short_text_has_no_ellipsis():
    assert snippets("short text", {"zzz"}) == [Snippet("short text", [])]


def test_empty_text_has_no_snippets():
    assert snippets("", {"putin"}) == []


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("普京习近平會晤關係 Putin Xi met.。\n<>&\"'"), max_size=400),
    st.integers(min_value=10, max_value=150),
    st.integers(min_value=1, max_value=4),
)
def test_snippets_always_respect_count_width_and_mark_real_matches(text, width, count):
    terms = {"普京", "习近平", "putin", "xi"}
    got = snippets(text, terms, width=width, count=count)
    assert len(got) <= count
    for s in got:
        assert len(s.text) <= width + 2
        for a, b in s.marks:
            assert 0 <= a < b <= len(s.text)
            assert s.text[a:b].strip()


# --- to_html -------------------------------------------------------------------


def test_markup_in_the_text_is_escaped():
    html = to_html(Snippet("<script>alert(1)</script> Putin", [(26, 31)]))
    assert html == "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Putin</mark>"


def test_quotes_and_ampersands_are_escaped():
    html = to_html(Snippet("He said \"yes\" & 'no'", []))
    assert html == "He said &quot;yes&quot; &amp; &#x27;no&#x27;"


def test_markup_inside_a_marked_range_is_escaped_too():
    assert to_html(Snippet("a<b>c", [(1, 4)])) == "a<mark>&lt;b&gt;</mark>c"


def test_only_mark_tags_are_produced():
    text = "<b onclick=\"x()\">普京</b> & <i>Putin</i>"
    a, b = text.index("普京"), text.index("Putin")
    html = to_html(Snippet(text, [(a, a + 2), (b, b + 5)]))
    assert MARK.findall(html) == ["普京", "Putin"]
    assert re.findall(r"<(/?\w+)", html) == ["mark", "/mark", "mark", "/mark"]


def test_newlines_become_spaces():
    assert to_html(Snippet("第一段。\n\n第二段", [])) == "第一段。 第二段"


def test_snippets_from_hostile_text_render_safely():
    text = '<img src=x onerror="alert(1)"> 普京 & "习近平" <script>'
    for s in snippets(text, {"普京", "习近平"}):
        html = to_html(s)
        assert MARK.findall(html) == ["普京", "习近平"]
        without = MARK.sub(r"\1", html)
        assert "<" not in without and ">" not in without and '"' not in without


# --- only the sentences that can match are analyzed: the same marks as analyzing everything ---

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from search.analysis import analyze, query_terms  # noqa: E402
from search.highlight import _phrase_spans  # noqa: E402
from search.analysis.convert import to_simplified  # noqa: E402

_PIECES = ["中俄關係", "中俄关系", "合作", "上海合作組織", "风雨兼程", "習近平", "普京", "policy", "Policies", "cooperating",
           "O’Neil", "dying", "Russia’s", "BRICS", "２０２４", "３．５", "ﬁne", "Ｐｕｔｉｎ", "Putin",
           "Ｐｕｔｉｎ ", "ﬁne ", "Putin said. ", "policy, ", "increases ", "Eases", "easing ", "o'eases ", "sea", "。", "，", "！", ". ", "\n", " ", "“", "”", "…"]

_QUERIES = ["中俄关系", "关系", "合作", "上海合作組織", "習近平", "普京", "policy", "cooperating", "O'Neil", "dying", "Russia", "BRICS", "Putin", "fine", "eases"]


def _whole_text_ranges(text, terms, phrases):
    """The reference: every token of the whole text, as before the shortcut."""
    tokens = list(analyze(text))
    spans = sorted([(t.start, t.end) for t in tokens if t.term in terms] + (_phrase_spans(tokens, phrases) if phrases else []))
    merged = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30), st.lists(st.sampled_from(_QUERIES), min_size=1, max_size=3))
def test_marks_are_those_of_the_whole_text(pieces, query_pieces):
    text = "".join(pieces)
    terms = {t.term for piece in query_pieces for t in query_terms(piece)}
    phrases = [[t.term for t in query_terms(piece)] for piece in query_pieces if len(query_terms(piece)) > 1]
    assert match_ranges(text, terms, phrases) == _whole_text_ranges(text, terms, phrases)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(_PIECES), max_size=60),
    st.lists(st.sampled_from(_QUERIES), min_size=1, max_size=3),
    st.integers(min_value=10, max_value=80),
)
def test_a_fragment_marks_every_match_it_shows(pieces, query_pieces, width):
    # Snippets analyze only the most promising sentences first; whatever a fragment
    # shows must still be marked as analyzing the whole text would mark it.
    text = "".join(pieces)
    terms = {t.term for piece in query_pieces for t in query_terms(piece)}
    phrases = [[t.term for t in query_terms(piece)] for piece in query_pieces if len(query_terms(piece)) > 1]
    whole = _whole_text_ranges(text, terms, phrases)
    for s in snippets(text, terms, phrases, width=width):
        shift = 1 if s.text.startswith("…") else 0
        body = s.text[shift:].removesuffix("…") if s.text != "…" else s.text
        marks = [(a - shift, b - shift) for a, b in s.marks]
        # Every place the fragment could come from, overlapping ones included (中俄關係Ｐｕｔｉｎ 中
        # occurs at 4 and at 14 of 中俄關係中俄關係Ｐｕｔｉｎ 中俄關係…; a plain finditer finds only 4).
        offsets = [m.start() for m in re.finditer(f"(?={re.escape(body)})", text)] if body else [0]
        expected = [[(a - o, b - o) for a, b in whole if a >= o and b <= o + len(body)] for o in offsets]
        assert marks in expected


def test_the_fragment_with_most_words_wins_however_late_it_comes():
    text = "。".join(["普京发表讲话"] * 30 + ["普京与习近平会晤"] + ["普京发表讲话"] * 5)
    (best,) = snippets(text, {"普京", "习近平"}, width=20, count=1)
    assert {"普京", "习近平"} <= set(surfaces(best.text, best.marks))


def _string_ranges(text, strings):
    folded = to_simplified(text)
    return [(m.start(), m.start() + len(s)) for s in strings for m in re.finditer(f"(?={re.escape(s)})", folded)]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30), st.lists(st.sampled_from(_QUERIES), min_size=1, max_size=3))
def test_strings_are_marked_wherever_they_stand_beside_the_terms(pieces, query_pieces):
    # The query's Chinese strings (found as bigrams) are marked inside words too; with them
    # the marks are the whole text's term marks plus every place a string stands.
    text = "".join(pieces)
    terms = {t.term for piece in query_pieces for t in query_terms(piece)}
    strings = sorted(t for t in terms if re.fullmatch(r"[\u4e00-\u9fff]+", t))
    expected = _whole_text_ranges(text, terms, [])
    if len(to_simplified(text)) == len(text):
        expected = _merged_spans(expected + _string_ranges(text, strings))
    assert match_ranges(text, terms, [], strings) == expected


def _merged_spans(spans):
    merged = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
