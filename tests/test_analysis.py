from __future__ import annotations

import opencc
from hypothesis import given, settings
from hypothesis import strategies as st

from search.analysis import analyze, query_terms
from search.analysis.bigrams import bigrams
from search.analysis import pipeline
from search.analysis.pipeline import document_positions, han_run, han_runs
from search.analysis.scripts import script_runs

T2S = opencc.OpenCC("t2s")
S2T = opencc.OpenCC("s2t")

HANT = "習近平同俄羅斯總統普京舉行會晤中俄關係金磚國家領導人一帶一路戰略協作週年發佈來源記憶體"
HANS = "习近平同俄罗斯总统普京举行会晤中俄关系金砖国家领导人一带一路战略协作周年发布来源内存"
LATIN = "Cooperation BRICS Putin's ﬁnance naïve Ｂ ＡＢＣ１２３ 2024 5.93"
OTHER = "，。、“”「」！？ \n\t😀🇨🇳-—()（）Путин"

mixed_text = st.text(alphabet=st.sampled_from(HANT + HANS + LATIN + OTHER), max_size=120)


def terms(text: str) -> list[str]:
    return [t.term for t in analyze(text)]


@settings(max_examples=300, deadline=None)
@given(mixed_text)
def test_offsets_point_at_the_original_surface(text):
    for tok in analyze(text):
        surface = text[tok.start : tok.end]
        assert surface, tok
        assert 0 <= tok.start < tok.end <= len(text)
        # The surface, analyzed alone, yields the token's term (same word, same script fold).
        if tok.lang == "zh":
            # Chinese is converted character for character: same length, same script-folded text.
            assert len(tok.term) == len(surface) and T2S.convert(tok.term) == tok.term
        else:
            assert tok.term in terms(surface), (tok, surface)


def grouped(tokens) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for tok in tokens:
        out.setdefault(tok.term, []).append(tok.pos)
    return out


@settings(max_examples=300, deadline=None)
@given(mixed_text)
def test_indexing_positions_are_the_tokens_terms_and_positions(text):
    # Twice: the second time from the cache of runs already analyzed.
    for _ in range(2):
        # asked again for the same text, and for an equal one: the last answer is kept
        for asked in (text, text, "".join(list(text))):
            assert document_positions(asked) == (grouped(analyze(text)), grouped(bigrams(text)))


@given(st.lists(st.text(min_size=2, max_size=2).filter(lambda pair: "\0" not in pair), min_size=2, max_size=20))
def test_pair_numbers_sort_as_the_pairs_utf8_bytes(pairs):
    # The segment stores a pair field's terms in the order of their numbers: it must be the
    # order of their UTF-8 bytes, the order the term index is read in.
    assert sorted(pairs, key=pipeline.pair_code) == sorted(pairs, key=lambda pair: pair.encode("utf-8", "surrogatepass"))
    assert all(pipeline.pair_text(pipeline.pair_code(pair)) == pair for pair in pairs)


han_runs_text = st.text(alphabet=st.sampled_from(HANT + HANS + "的了是在和也就都而及与着"), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(han_runs_text, max_size=12), st.sets(st.integers(0, 11)))
def test_runs_analyzed_together_are_analyzed_as_one_at_a_time(runs, cached):
    # The cache is emptied first: analyze() reads what indexing put there.
    pipeline._han_runs.clear()
    alone = {run: han_run(run, keep=False) for run in runs}
    for n in sorted(cached):  # some of them analyzed before, as by an earlier document
        if n < len(runs):
            han_run(runs[n])
    assert han_runs(runs) == alone
    assert {run: pipeline._han_runs[run] for run in runs} == alone
    pipeline._han_runs.clear()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(HANS + "，。 "), max_size=80))
def test_traditional_and_simplified_give_the_same_terms(text):
    assert terms(S2T.convert(text)) == terms(text)


def test_traditional_is_segmented_after_conversion():
    got = [(t.term, t.start, t.end) for t in analyze("習近平同俄羅斯總統普京舉行會晤")]
    assert ("习近平", 0, 3) in got
    assert ("普京", 9, 11) in got


def test_subwords_share_the_position_of_their_word():
    toks = list(analyze("中俄關係風雨兼程"))
    by_term = {t.term: t for t in toks}
    assert by_term["关系"].pos == by_term["中俄关系"].pos == by_term["中俄"].pos
    assert (by_term["关系"].start, by_term["关系"].end) == (2, 4)


def test_query_terms_keep_only_whole_words():
    assert [t.term for t in query_terms("中俄关系")] == ["中俄关系"]
    assert [t.term for t in query_terms("一帶一路")] == ["一带", "一路"]


def test_english_is_stemmed_lowercased_and_stopped():
    assert terms("The Cooperating and cooperation") == ["cooper", "cooper"]
    assert terms("Russia’s") == ["russia"]


def test_full_width_letters_and_digits_fold_to_ascii():
    toks = list(analyze("ＢＲＩＣＳ１６"))
    assert [t.term for t in toks] == ["bric", "16"]
    assert [(t.start, t.end) for t in toks] == [(0, 5), (5, 7)]


def test_chinese_stopwords_are_dropped_but_meaningful_single_characters_stay():
    got = terms("中国的发展和世界")
    assert "的" not in got and "和" not in got
    assert "中国" in got and "世界" in got
    assert "同" in terms("习近平同普京会晤")


def test_script_runs_split_han_latin_digits():
    runs = [(r.kind, r.text) for r in script_runs("S-300导弹，Ｘ光75週年")]
    assert runs == [("latin", "S"), ("digit", "300"), ("han", "导弹"), ("latin", "X"), ("han", "光"), ("digit", "75"), ("han", "週年")]


def test_ligature_offsets_cover_the_original_character():
    text = "ﬁnance"
    (tok,) = analyze(text)
    assert (tok.start, tok.end) == (0, 6) and tok.term == "financ"

