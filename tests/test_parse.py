"""The query language parser: what a typed query turns into, and that it never fails."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.query.parse import (
    MAX_CLAUSES,
    MAX_DEPTH,
    MAX_QUERY_CHARS,
    And,
    Not,
    Or,
    Phrase,
    Pref,
    Word,
    parse,
)


def node(text):
    return parse(text).node


def leaves(n):
    """Every Word and Phrase in a tree, in order."""
    if n is None:
        return []
    if isinstance(n, (Word, Phrase)):
        return [n]
    if isinstance(n, Not):
        return leaves(n.child)
    return [leaf for child in n.children for leaf in leaves(child)]


# --- words and phrases -------------------------------------------------------


def test_plain_words_are_preferred_together():
    assert node("習近平 普京") == Pref([Word("習近平"), Word("普京")])


def test_single_word_is_not_wrapped():
    assert node("Putin") == Word("Putin")


@pytest.mark.parametrize(
    "query",
    ['"一带一路"', "“一带一路”", "「一带一路」", "『一带一路』", "＂一带一路＂"],
)
def test_every_quote_style_makes_a_phrase(query):
    parsed = parse(query)
    assert parsed.node == Phrase("一带一路")
    assert parsed.warnings == []


def test_phrase_keeps_inner_spaces_and_trims_the_ends():
    assert node('"  Shanghai Cooperation Organization "') == Phrase("Shanghai Cooperation Organization")


def test_phrase_between_words():
    assert node('習近平 "一带一路" Putin') == Pref([Word("習近平"), Phrase("一带一路"), Word("Putin")])


def test_phrase_glued_to_words_still_splits_out():
    assert node('a"b c"d') == Pref([Word("a"), Phrase("b c"), Word("d")])


def test_empty_phrase_is_dropped():
    assert node('""') is None
    assert node('"" Putin') == Word("Putin")


# --- boolean operators ----------------------------------------------------------


def test_and_requires_both():
    assert node("farm AND rally") == And([Word("farm"), Word("rally")])


def test_and_chains_into_one_group():
    assert node("a AND b AND c") == And([Word("a"), Word("b"), Word("c")])


def test_or_binds_tighter_than_juxtaposition():
    assert node("a OR b c") == Pref([Or([Word("a"), Word("b")]), Word("c")])


def test_not_operator_and_minus_prefix_are_the_same():
    assert node("Xi NOT Putin") == Pref([Word("Xi"), Not(Word("Putin"))])
    assert node("Xi -Putin") == node("Xi NOT Putin")
    assert node("NOT Putin") == Not(Word("Putin"))


def test_minus_phrase_excludes_the_phrase():
    assert node('-"一带 一路" 普京') == Pref([Not(Phrase("一带 一路")), Word("普京")])
    assert node("-「一带一路」") == Not(Phrase("一带一路"))


def test_lowercase_operators_are_ordinary_words():
    assert node("farm and rally") == Pref([Word("farm"), Word("and"), Word("rally")])
    assert node("a or b") == Pref([Word("a"), Word("or"), Word("b")])


def test_hyphen_inside_a_word_is_not_negation():
    assert node("S-300") == Word("S-300")


def test_plus_prefix_is_ignored():
    assert node("+Putin") == Word("Putin")


# --- parentheses ----------------------------------------------------------------


def test_parentheses_group():
    assert node("(farm OR rally) NOT Putin") == Pref([Or([Word("farm"), Word("rally")]), Not(Word("Putin"))])


def test_full_width_parentheses_group_too():
    assert node("（farm OR rally） Putin") == Pref([Or([Word("farm"), Word("rally")]), Word("Putin")])


def test_negated_group():
    assert node("Xi -(farm OR rally)") == Pref([Word("Xi"), Not(Or([Word("farm"), Word("rally")]))])


def test_nested_groups():
    assert node("((a OR b) AND c) d") == Pref([And([Or([Word("a"), Word("b")]), Word("c")]), Word("d")])


# --- fields -----------------------------------------------------------------------


def test_field_word():
    assert node("title:普京") == Word("普京", "title")
    assert node("body:Putin") == Word("Putin", "body")


def test_field_name_is_case_insensitive():
    assert node("TITLE:普京") == Word("普京", "title")


def test_field_phrase():
    assert node('title:"一带一路"') == Phrase("一带一路", "title")
    assert node("body:“Belt and Road”") == Phrase("Belt and Road", "body")


def test_field_group_applies_to_every_word_inside_only():
    assert node("title:(farm OR rally) Putin") == Pref(
        [Or([Word("farm", "title"), Word("rally", "title")]), Word("Putin")]
    )


def test_field_group_keeps_an_inner_explicit_field():
    assert node("title:(a body:b)") == Pref([Word("a", "title"), Word("b", "body")])


def test_negated_field_word():
    assert node("-title:普京 Xi") == Pref([Not(Word("普京", "title")), Word("Xi")])


def test_unknown_field_is_an_ordinary_word():
    assert node("foo:bar") == Word("foo:bar")
    assert node("http://example.com") == Word("http://example.com")


def test_field_with_nothing_after_it_is_dropped():
    assert node("title:") is None
    assert node("title: Putin") == Word("Putin")


# --- leniency ---------------------------------------------------------------------


def test_unbalanced_quote_is_closed_at_the_end():
    parsed = parse('Putin "Belt and Road')
    assert parsed.node == Pref([Word("Putin"), Phrase("Belt and Road")])
    assert any("unbalanced quote" in w for w in parsed.warnings)


def test_unclosed_parenthesis_is_closed_at_the_end():
    parsed = parse("(a OR b")
    assert parsed.node == Or([Word("a"), Word("b")])
    assert any("unbalanced parenthesis" in w and "closed" in w for w in parsed.warnings)


def test_extra_closing_parenthesis_is_ignored():
    parsed = parse("a) b")
    assert parsed.node == Pref([Word("a"), Word("b")])
    assert any("extra ')'" in w for w in parsed.warnings)


def test_dangling_not_is_dropped_with_a_warning():
    parsed = parse("Putin NOT")
    assert parsed.node == Word("Putin")
    assert any(w.startswith("NOT without") for w in parsed.warnings)


def test_dangling_or_is_dropped_with_a_warning():
    parsed = parse("Putin OR")
    assert parsed.node == Word("Putin")
    assert any(w.startswith("OR without") for w in parsed.warnings)


def test_dangling_and_is_dropped():
    assert node("AND Putin AND") == Word("Putin")


def test_lone_minus_is_dropped():
    assert node("Putin -") == Word("Putin")
    assert node("-") is None


@pytest.mark.parametrize("query", ["", "   ", "AND OR", "NOT", "((((", ")))", '"', "「", "-", "title:", "()", "NOT NOT"])
def test_queries_with_nothing_to_search_give_no_node(query):
    assert parse(query).node is None


def test_clean_query_has_no_warnings():
    assert parse('習近平 "一带一路" -Putin title:(a OR b)').warnings == []


# --- caps -------------------------------------------------------------------------


def test_clause_cap_keeps_the_first_words_and_says_so():
    parsed = parse(" ".join(f"w{i}" for i in range(MAX_CLAUSES + 20)))
    words = leaves(parsed.node)
    assert [w.text for w in words] == [f"w{i}" for i in range(MAX_CLAUSES)]
    assert parsed.warnings == [f"only the first {MAX_CLAUSES} words and phrases are searched"]


def test_clause_cap_counts_phrases_too():
    parsed = parse(" ".join(f'"p{i} q"' for i in range(MAX_CLAUSES + 1)))
    assert len(leaves(parsed.node)) == MAX_CLAUSES
    assert any(str(MAX_CLAUSES) in w for w in parsed.warnings)


def test_exactly_max_clauses_is_not_capped():
    parsed = parse(" ".join(f"w{i}" for i in range(MAX_CLAUSES)))
    assert len(leaves(parsed.node)) == MAX_CLAUSES
    assert parsed.warnings == []


def test_nesting_deeper_than_max_depth_is_flattened_with_a_warning():
    depth = MAX_DEPTH + 5
    parsed = parse("(" * depth + "普京" + ")" * depth)
    assert parsed.node == Word("普京")
    assert any(f"deeper than {MAX_DEPTH}" in w for w in parsed.warnings)


def test_nesting_deeper_than_max_depth_keeps_every_word():
    depth = MAX_DEPTH + 1
    parsed = parse("(" * depth + "Putin 普京" + ")" * depth)
    assert [w.text for w in leaves(parsed.node)] == ["Putin", "普京"]


def test_nesting_up_to_max_depth_is_kept_without_warning():
    parsed = parse("(" * MAX_DEPTH + "a OR b" + ")" * MAX_DEPTH)
    assert parsed.node == Or([Word("a"), Word("b")])
    assert parsed.warnings == []


def test_very_deep_nesting_never_raises():
    # 1805 characters, under MAX_QUERY_CHARS: a user (or a bot) can send this to /api/search.
    parsed = parse("(" * 900 + "Putin" + ")" * 900)
    assert [w.text for w in leaves(parsed.node)] == ["Putin"]


def test_long_query_is_truncated_with_a_warning():
    parsed = parse("a" * (MAX_QUERY_CHARS + 500))
    assert parsed.node == Word("a" * MAX_QUERY_CHARS)
    assert parsed.warnings == [f"query truncated to {MAX_QUERY_CHARS} characters"]


def test_query_at_the_limit_is_not_truncated():
    parsed = parse("a" * MAX_QUERY_CHARS)
    assert parsed.node == Word("a" * MAX_QUERY_CHARS)
    assert parsed.warnings == []


# --- control characters and surrogates ----------------------------------------------


def text_of(n):
    return "".join(leaf.text for leaf in leaves(n))


@pytest.mark.parametrize("junk", ["\x00", "\x07", "\x1b", "\x7f", "\u200b", "\u2028", "\ufeff"])
def test_control_and_invisible_characters_never_reach_a_term(junk):
    parsed = parse(f"Pu{junk}tin 普{junk}京")
    assert junk not in text_of(parsed.node)
    assert {"Pu", "tin", "普", "京"} <= {w.text for w in leaves(parsed.node)}


@pytest.mark.parametrize("surrogate", ["\ud800", "\udfff", "\udc00"])
def test_lone_surrogates_are_dropped(surrogate):
    parsed = parse(f"Pu{surrogate}tin")
    assert parsed.node == Word("Putin")
    # The result can be encoded (e.g. into a JSON response) without error.
    text_of(parsed.node).encode("utf-8")


def test_tabs_and_newlines_separate_words():
    assert node("a\tb\nc") == Pref([Word("a"), Word("b"), Word("c")])


def test_emoji_and_other_scripts_survive():
    assert node("😀 Путин") == Pref([Word("😀"), Word("Путин")])


# --- property: never raises -----------------------------------------------------------

SYNTAX = '()（）"“”「」『』＂ -+:ANDORNOTtitlebody' + "習近平普京ab\x00\ud800\t\n" + "|｜_—–新华网R"

arbitrary = st.text(alphabet=st.characters(exclude_categories=()), max_size=300)
syntax_heavy = st.lists(
    st.sampled_from(list(SYNTAX) + ["AND", "OR", "NOT", " AND ", " OR ", " NOT ", "title:", "body:", "-(", "- "]),
    max_size=120,
).map("".join)


def check(parsed):
    assert parsed.node is None or isinstance(parsed.node, (Word, Phrase, Not, And, Or, Pref))
    assert all(isinstance(w, str) and w for w in parsed.warnings)
    assert len(leaves(parsed.node)) <= MAX_CLAUSES
    for leaf in leaves(parsed.node):
        assert leaf.text and leaf.text == leaf.text.strip()
        leaf.text.encode("utf-8")  # no lone surrogates left
        assert leaf.field in (None, "title", "body")
    assert all(name and name == name.strip() for name in parsed.sources)
    assert not parsed.sources or parsed.node is not None  # names alone are the query itself


@settings(max_examples=300, deadline=None)
@given(arbitrary)
def test_parse_never_raises_on_arbitrary_text(text):
    check(parse(text))


@settings(max_examples=300, deadline=None)
@given(syntax_heavy)
def test_parse_never_raises_on_operator_soup(text):
    check(parse(text))


@pytest.mark.parametrize(
    "query",
    ["江西为抗洪一线青年入伍开辟“绿色通道”", "「境」在馬祖所代表的意義為？", "“塞上江南”追寻诗意“黄河梦”", "黑土地『种』出农业现代化"],
)
def test_chinese_quotes_touching_chinese_text_are_its_punctuation(query):
    # A pasted headline or question quotes a term inside its text: one chunk, as the article
    # writes it (the analyzer splits words at the quotes), not a phrase that a translation
    # must hold word for word.
    assert parse(query).node == Word(query)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("习近平 “一带一路”", Pref([Word("习近平"), Phrase("一带一路")])),
        ("“一带一路” 倡议", Pref([Phrase("一带一路"), Word("倡议")])),
        ('一带一路"倡议"', Pref([Word("一带一路"), Phrase("倡议")])),  # ASCII quotes are always the operator
        ("-“一带一路”倡议", Pref([Not(Phrase("一带一路")), Word("倡议")])),
        ("title:“普京”访华", Pref([Phrase("普京", "title"), Word("访华")])),
        ("Xi “Belt and Road” plan", Pref([Word("Xi"), Phrase("Belt and Road"), Word("plan")])),
        ("访问“普京”-乌克兰", Pref([Word("访问“普京”"), Not(Word("乌克兰"))])),  # an exclusion stays one
    ],
)
def test_chinese_quotes_standing_apart_make_a_phrase(query, expected):
    assert parse(query).node == expected
