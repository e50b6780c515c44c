"""Query translation units: dictionary lookups, the synonym-set queries, flood control and caps."""

from __future__ import annotations

import json

import pytest
from whoosh import matching
from whoosh import query as wq

from search.indexer import Indexer
from search.lexicon import Lexicon, lexicon
from search.lexicon.cedict import compile_cedict, parse_gloss
from search.backends.whoosh.compile import compile_node
from search.query import build
from search.query.build import TRANSLATION_BOOST
from search.query.parse import parse
from search.backends.whoosh.synonyms import SynonymSet, WeightedSynonyms, _MaxMatcher
from search.query.translate import (
    MAX_TRANSLATIONS,
    Candidate,
    Concept,
    select,
    sources_of,
    split_contraction,
    translate_phrase,
    translate_run,
)
from search.searcher import Engine


def concepts(text: str) -> list[Concept]:
    return translate_run(sources_of(text), text=text)


def texts(concept: Concept) -> list[str]:
    return [c.text for c in concept.candidates]


def walk(q):
    yield q
    for child in getattr(q, "subqueries", ()) or ():
        yield from walk(child)


def test_lexicon_is_loaded_once():
    assert lexicon() is lexicon()


def cached_lexicon() -> Lexicon:
    """The lexicon as every process after the first reads it: from the cache database (the
    process that compiled the tables keeps them in memory; on a fresh machine that may be this one)."""
    from search.lexicon import _SqliteTable, load_aliases, load_tables

    tables = load_tables()
    if not isinstance(tables["zh"], _SqliteTable):  # compiled here: read back what was cached
        tables = load_tables()
    if not isinstance(tables["zh"], _SqliteTable):
        pytest.skip("the lexicon cache is not writable here")
    return Lexicon(tables, load_aliases())


def test_the_compiled_lexicon_is_read_back_from_a_cache_folder_of_any_name(tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "SEARCH_CACHE_DIR": str(tmp_path / "cache a#b?c")}
    code = "from search.lexicon import lexicon; print(lexicon().zh_to_en('普京')[0][0])"
    first = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert first.stdout.strip() == "Vladimir Putin"
    # the second process must read the cache, not compile again
    code = "import search.lexicon as L; L.compile_tables = None; " + code
    again = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-500:]
    assert again.stdout.strip() == "Vladimir Putin"


def test_many_words_are_looked_up_as_one_at_a_time():
    """The indexer's batch lookup (one query per 900 words) answers what single lookups do:
    dictionary words, curated aliases, words it lacks, on the cache database and on a fresh one."""
    lx = cached_lexicon()
    known = [k for (k,) in lx._zh._db.execute("SELECT k FROM zh ORDER BY k LIMIT 1500 OFFSET 20000")]
    words = ["普京", "一带一路", "经济", "没有这个词的词", "G20"] + known
    many = lx.zh_to_en_many(words)
    assert list(many) == words
    assert many == {word: lx.zh_to_en(word) for word in words}
    assert {origin for _, _, origin in many["一带一路"]} == {"alias", "cedict"} and many["没有这个词的词"] == []
    assert all(many[word] for word in known)  # past the 900 words of one query


def test_compiled_gloss_keys_are_the_keys_of_the_first_glosses():
    """The keys compiled with the lexicon are those of :meth:`zh_to_en`'s first glosses (aliases
    first), read from the cache database in batches."""
    from search.lexicon import GLOSS_KEYS
    from search.lexicon.keys import phrase_key

    lx = cached_lexicon()
    known = [k for (k,) in lx._zh._db.execute("SELECT k FROM zh ORDER BY k LIMIT 2000 OFFSET 30000")]
    words = ["普京", "一带一路", "经济", "没有这个词的词", "G20", "习近平"] + known
    keys = lx.gloss_keys_many(words)
    assert keys == {word: [phrase_key(text) for text, _, _ in lx.zh_to_en(word)[:GLOSS_KEYS]] for word in words}
    assert keys["没有这个词的词"] == [] and keys["普京"][0] == phrase_key(lx.zh_to_en("普京")[0][0])
    assert sum(1 for word in known if keys[word]) == len(known)


# Phrases before words


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Belt and Road", "一带一路"),
        ("Security Council", "安理会"),
        ("United Nations", "联合国"),
        ("Shanghai Cooperation Organization", "上海合作组织"),
        ("Shanghai Cooperation Organisation", "上海合作组织"),
        ("the United Nations Security Council", "安理会"),
        ("Xi Jinping", "习近平"),
    ],
)
def test_english_phrase_is_one_concept(text, expected):
    found = concepts(text)
    assert len(found) == 1
    (concept,) = found
    assert (concept.start, concept.end) == (0, len(sources_of(text)))
    assert expected in texts(concept)
    assert concept.lang == "en" and concept.target == "zh"


def test_phrase_inside_a_longer_query_keeps_its_neighbours_apart():
    found = concepts("Putin visited the United Nations")
    assert [c.source for c in found] == ["Putin", "visited", "United Nations"]
    assert "普京" in texts(found[0]) and "联合国" in texts(found[2])


def test_a_pronoun_does_not_start_a_phrase():
    # CC-CEDICT glosses 喔 as "I see": "I see her" is three words, not an interjection.
    found = concepts("I see her")
    assert [c.source for c in found] == ["I", "see", "her"]


def test_chinese_words_jieba_splits_are_merged_for_the_lookup():
    (concept,) = concepts("一带一路")  # jieba: 一带 / 一路
    assert (concept.start, concept.end) == (0, 2)
    assert "Belt and Road Initiative" in texts(concept)
    (sco,) = concepts("上海合作組織")  # traditional, three jieba words
    assert sco.converted == "上海合作组织"
    assert any(c.terms == ("shanghai", "cooper", "organiz") for c in sco.candidates)  # American spelling twin


def test_chinese_word_missing_from_the_dictionary_is_split_into_its_words():
    (concept,) = concepts("試試")
    assert concept.converted == "试"
    assert "to try" in texts(concept)


def test_quoted_phrase_translates_only_as_a_whole():
    assert translate_phrase(sources_of("Security Council")).candidates[0].text == "安理会"
    assert translate_phrase(sources_of("一路一带")) is None


# Inflections and word forms


def test_stemmed_lookup_finds_inflections():
    (meetings,) = concepts("meetings")
    assert "会议" in texts(meetings)
    (cooperating,) = concepts("cooperating")
    assert "合作" in texts(cooperating)


def test_exact_form_wins_over_a_stem_collision():
    (good,) = concepts("good")
    (goods,) = concepts("goods")
    assert texts(good)[0] == "好"
    assert texts(goods)[0] != "好"


def test_irregular_forms_and_phrasal_verbs():
    (saw,) = concepts("saw")
    assert {"看见", "看到"} & set(texts(saw))
    found = concepts("given up smoking")
    assert [c.source for c in found] == ["given up smoking"]
    assert "戒烟" in texts(found[0])


def test_derivational_family_at_a_lower_weight():
    (strategic,) = concepts("strategic")
    family = [c for c in strategic.candidates if c.text == "战略"]
    assert family and family[0].origin == "family" and family[0].weight < 1


def test_contractions_are_split():
    assert split_contraction("didn't") == ["did", "not"]
    assert split_contraction("won't") == ["will", "not"]
    (concept,) = concepts("didn't")
    assert {"不", "没有"} <= set(texts(concept))


# Names


@pytest.mark.parametrize("zh, en", [("喀山", "Kazan"), ("莫斯科", "Moscow"), ("习近平", "Xi Jinping"), ("普京", "Putin")])
def test_names_both_ways(zh, en):
    (to_en,) = [c for c in concepts(zh) if c.target == "en"]  # 普京 also has its Taiwan form 普丁 (target zh)
    assert en in texts(to_en)
    (to_zh,) = concepts(en)
    assert zh in texts(to_zh)


@pytest.mark.parametrize("zh, en", [("佛州", "Florida"), ("麻州", "Massachusetts"), ("康州", "Connecticut"), ("加州", "California")])
def test_us_states_by_their_short_chinese_names(zh, en):
    (to_en,) = [c for c in concepts(zh) if c.target == "en"]
    assert texts(to_en)[0] == en  # not a city read by sound (佛州 was Fuzhou)
    (to_zh,) = concepts(en)
    assert zh in texts(to_zh)


def test_texas_never_asks_for_the_character_zhou_alone():
    (to_zh,) = concepts("Texas")
    assert "得克萨斯州" in texts(to_zh) and "州" not in texts(to_zh)


def test_unknown_chinese_person_name_is_transliterated():
    (concept,) = concepts("郝薇薇")  # jieba: 郝薇 / 薇
    assert (concept.start, concept.end) == (0, 2)
    assert concept.candidates[0].text == "Hao Weiwei"
    assert concept.candidates[0].origin == "name"


def test_a_name_jieba_cut_whole_does_not_swallow_the_next_word():
    # jieba: 柳云龙 (a name) / 演 (a verb); a given name has at most two characters, so the
    # name is 柳云龙, not "Liu Yunlongyan", and 演 keeps its own translation.
    names = [c for c in concepts("柳云龙演一个结巴") if any(x.origin == "name" for x in c.candidates)]
    assert [(c.start, c.end, c.candidates[0].text) for c in names] == [(0, 1, "Liu Yunlong")]


def test_foreign_person_is_also_found_by_surname():
    (concept,) = [c for c in concepts("普京") if c.target == "en"]
    assert {"Vladimir Putin", "Putin"} <= set(texts(concept))
    phrase = next(c for c in concept.candidates if c.text == "Vladimir Putin")
    assert phrase.terms == ("vladimir", "putin")


# The dictionary compiler


def test_gloss_cleaning():
    gloss = parse_gloss("(United Nations) Security Council", 0, 0)
    assert gloss.text == "Security Council" and gloss.prefixed == "United Nations Security Council"
    assert parse_gloss("Shanghai Cooperation Organisation (SCO)", 0, 0).acronym == "SCO"
    assert parse_gloss("CL:個|个[ge4]", 0, 0) is None
    assert parse_gloss("(archaic) I", 0, 0).weight < parse_gloss("I", 0, 0).weight


def test_compiled_tables_rank_by_sense_and_frequency():
    entries = [
        {"simplified": "见面", "traditional": "見面", "pinyin": "jian4 mian4", "definitions": ["to meet", " to see each other"]},
        {"simplified": "佸", "traditional": "佸", "pinyin": "huo2", "definitions": ["(archaic) to meet"]},
        {"simplified": "会", "traditional": "會", "pinyin": "hui4", "definitions": ["can", "to meet"]},
    ]
    freq = {"见面": 2000, "佸": 2000, "会": 90000}
    tables = compile_cedict(entries, lambda w: freq.get(w, 0), lambda w: w in freq)
    lex = Lexicon(tables)
    ranked = [zh for zh, _, _ in lex.en_phrase(("meet",))]
    assert ranked.index("见面") < ranked.index("佸")  # register: archaic weighs less
    assert [text for text, _, _ in lex.zh_to_en("会")] == ["can", "to meet"]  # sense order


def test_alias_adds_to_the_dictionary_without_replacing_it():
    entries = [{"simplified": "汉语", "traditional": "漢語", "pinyin": "Han4 yu3", "definitions": ["Chinese"]}]
    lex = Lexicon(compile_cedict(entries, lambda w: 10, lambda w: True), [("Chinese", "中国")])
    found = {zh: score for zh, score, _ in lex.en_phrase(("chines",))}
    assert set(found) == {"汉语", "中国"} and found["中国"] == found["汉语"]
    assert [text for text, _, _ in lex.zh_to_en("中国")] == ["Chinese"]


# Synonym-set structure


def plan(*args, **kwargs):
    """The planned search with its queries compiled for Whoosh (the structure these tests check)."""
    planned = build.plan(*args, **kwargs)
    planned.primary, planned.fallback = compile_node(planned.primary), compile_node(planned.fallback)
    return planned


def test_translations_of_one_word_form_one_weighted_set_per_field():
    the_plan = plan(parse("meeting"), "meeting", translate=True)
    sets = [q for q in walk(the_plan.primary) if isinstance(q, WeightedSynonyms)]
    assert {s.fieldname for s in sets} == {"title_zh", "body_zh", "captions_zh"}
    words = {text for text, _ in sets[0].terms_weights}
    assert "会议" in words and len(words) >= 2
    # no translation is searched as a separate term beside its set
    loose = [q for q in walk(the_plan.primary) if isinstance(q, wq.Term) and q.text in words]
    assert loose == []
    assert the_plan.fallback is None
    assert words <= the_plan.highlight


def test_phrase_translation_is_an_alternative_to_the_word_set():
    the_plan = plan(parse("BRICS"), "BRICS", translate=True)
    (top,) = [q for q in walk(the_plan.primary) if isinstance(q, SynonymSet)]
    kinds = {type(q).__name__ for q in walk(top)}
    assert "Phrase" in kinds  # 金砖国家 → 金砖 + 国家
    assert ["金砖", "国家"] in the_plan.phrases
    assert the_plan.interpretation.phrases == []  # the user typed no phrase


def test_each_unit_is_the_word_or_its_translations():
    the_plan = plan(parse("Kazan Putin"), "Kazan Putin", translate=True)
    # Both wrapped with the bonus for the words standing side by side (AndMaybe's optional part).
    primary, fallback = (q.a if isinstance(q, wq.AndMaybe) else q for q in (the_plan.primary, the_plan.fallback))
    assert isinstance(primary, wq.And) and isinstance(fallback, wq.Or)
    for unit in primary.subqueries:
        assert isinstance(unit, wq.Or)
        original, translated = unit.subqueries
        assert {q.fieldname for q in walk(original) if isinstance(q, wq.Term)} <= {"title_en", "body_en", "captions_en", "title_zh", "body_zh", "captions_zh"}
        assert translated.boost == pytest.approx(TRANSLATION_BOOST)


def test_translate_off_is_the_plain_plan():
    off = plan(parse("Kazan 普京"), "Kazan 普京")
    on_but_nothing_found = plan(parse("Kazan 普京"), "Kazan 普京", lambda f, t: False, translate=True)
    assert off.interpretation.translations == []
    assert on_but_nothing_found.interpretation.translations == []
    assert repr(off.primary) == repr(plan(parse("Kazan 普京"), "Kazan 普京", translate=False).primary)


def test_total_translations_are_capped():
    words = "meeting oil price war peace trade market school teacher student water river city country people".split()
    text = " ".join(words * 3)
    the_plan = plan(parse(text), text, translate=True)
    used = sum(len(t["translations"]) for t in the_plan.interpretation.translations)
    assert 0 < used <= MAX_TRANSLATIONS


@pytest.fixture(scope="module")
def tiny_engine(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    docs = [
        {"id": "three", "body": "会议、会晤、会见。"},  # three translations of one word
        {"id": "best", "body": "会议。"},
        {"id": "weak", "body": "会见。"},
        {"id": "other", "body": "石油价格。"},
    ]
    (folder / "docs.jsonl").write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in docs) + "\n", "utf-8")
    index_dir = str(folder / "index")
    Indexer(index_dir).run([str(folder / "docs.jsonl")])
    engine = Engine(index_dir)
    yield engine
    engine.close()


def scores(engine, q) -> dict[str, float]:
    s = engine.backend.searcher()
    return {s.stored_fields(hit.docnum)["id"]: hit.score for hit in s.search(q, limit=None)}


def test_weighted_set_scores_one_term_not_a_sum(tiny_engine):
    items = [("会议", 1.0), ("会晤", 0.5), ("会见", 0.5)]
    syn = scores(tiny_engine, WeightedSynonyms("body_zh", items))
    bag = scores(tiny_engine, wq.Or([wq.Term("body_zh", t, boost=w) for t, w in items]))
    assert set(syn) == {"three", "best", "weak"}
    assert syn["three"] < bag["three"]  # repeating translations of one word is not a sum of matches
    assert syn["best"] > syn["weak"]  # the likelier translation counts more
    assert list(WeightedSynonyms("body_zh", items).docs(tiny_engine.backend.searcher()))  # unscored matching works too


def test_disjunction_max_keeps_the_live_side_when_one_is_exhausted():
    done = matching.ListMatcher([])
    live = matching.ListMatcher([1, 5, 9], [1.0, 1.0, 1.0])
    replaced = _MaxMatcher(done, live).replace(0)
    assert list(replaced.all_ids()) == [1, 5, 9]


# Flood control


def concept_of(*cands: tuple[str, float]) -> Concept:
    return Concept(0, 1, "x", "x", "en", "zh", [Candidate(t, (t,), w, "cedict") for t, w in cands])


def test_flooding_secondary_translation_is_dropped_and_a_common_one_weighted_down():
    concept = concept_of(("best", 1.0), ("flood", 0.9), ("common", 0.8), ("rare", 0.5), ("weak", 0.1))
    df = {"best": 10, "flood": 5000, "common": 60, "rare": 5, "weak": 1}
    chosen = select(concept, lambda terms: True, lambda terms: df[terms[0]], 10_000)
    names = [c.text for c in chosen]
    assert "flood" not in names  # in half the documents, 500 times as many as the best translation
    assert "weak" not in names  # below MIN_RELATIVE
    assert names[0] == "best" and "rare" in names
    common = next(c for c in chosen if c.text == "common")
    assert common.weight < 0.8


def test_the_best_translation_is_kept_even_when_common():
    concept = concept_of(("everywhere", 1.0), ("rare", 0.6))
    chosen = select(concept, lambda terms: True, lambda terms: {"everywhere": 9000, "rare": 3}[terms[0]], 10_000)
    assert [c.text for c in chosen] == ["everywhere", "rare"]


def test_translations_the_index_lacks_are_dropped_and_the_rest_capped():
    concept = concept_of(*[(f"t{i}", 1.0 - i / 20) for i in range(10)])
    chosen = select(concept, lambda terms: terms[0] != "t0", limit=3)
    assert [c.text for c in chosen] == ["t1", "t2", "t3"]
    assert chosen[0].weight == 1.0  # weights are relative to the best translation kept
