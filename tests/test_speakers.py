"""Speaker extraction and cross-language identity."""

from __future__ import annotations

import pytest

from bench.speakers import BILINGUAL, evaluate, evaluate_bilingual, load_gold
from search.ingest.speakers import extract_speakers, resolve_alias
from search.lexicon.people import people, pinyin_name
from tests.conftest import shared_corpus


def ids(body):
    return [(s.id, s.quotes) for s in extract_speakers(body)]


@pytest.mark.parametrize(
    "name",
    ["習近平", "习近平", "Xi Jinping", "Xi", "xi jinping"],
)
def test_xi_has_one_identity_in_every_script_and_language(name):
    assert resolve_alias(name) == ["xi-jinping"]


@pytest.mark.parametrize("name", ["普京", "普丁", "Putin", "Vladimir Putin"])
def test_putin_has_one_identity_including_the_taiwan_form(name):
    assert resolve_alias(name) == ["vladimir-putin"]


def test_chinese_names_link_to_english_through_pinyin():
    person = people().from_chinese("李強")
    assert (person.id, person.zh, person.en) == ("li-qiang", "李强", "Li Qiang")
    assert people().from_english("Li Qiang").id == "li-qiang"
    assert pinyin_name("欧阳修") == "Ouyang Xiu"
    assert pinyin_name("曾国藩") == "Zeng Guofan"  # surname reading, not the common one


def test_chinese_patterns_and_titles():
    assert ids({"zh": "国家主席习近平强调，要深化合作。"}) == [("xi-jinping", 1)]
    assert ids({"zh": "外交部发言人毛宁在例行记者会上表示，中方欢迎。"}) == [("mao-ning", 1)]
    # a transliterated name with no known English form gets none (not the pinyin "Pei Sikefu")
    peskov = extract_speakers({"zh": "俄总统新闻秘书佩斯科夫表示，不排除破坏。"})[0]
    assert (peskov.names["zh"], peskov.names["en"]) == ("佩斯科夫", None)
    # nor one whose first character is also a Chinese surname (武契奇 is Vučić, not "Wu Qiqi")
    vucic = extract_speakers({"zh": "塞尔维亚总统武契奇表示，塞方愿同中方加强合作。"})[0]
    assert (vucic.names["zh"], vucic.names["en"]) == ("武契奇", None)
    assert people().from_chinese("张克勤").en == "Zhang Keqin"  # a Chinese given name with 克 stays Chinese
    # a country, a reporter, an unnamed group are not speakers
    assert ids({"zh": "乌克兰媒体日前报道称，局势紧张。记者张三报道。大家表示很高兴。"}) == []


def test_chinese_pronoun_goes_to_the_last_speaker():
    assert ids({"zh": "普京表示，双方关系很好。\n他说，合作会继续。"}) == [("vladimir-putin", 2)]


def test_english_patterns():
    text = (
        "Chinese President Xi Jinping said Tuesday that ties are strong.\n"
        "For his part, Putin said the countries are partners.\n"
        "Relations will grow, he added.\n"
        '"We are ready," said Treasury Secretary James Baker.'
    )
    got = dict(ids({"en": text}))
    assert got == {"xi-jinping": 1, "vladimir-putin": 2, "james-baker": 1}


def test_companies_countries_and_unnamed_people_are_not_speakers():
    text = "Texaco Inc said profits rose.\nTexaco said it would pay.\nJapan said it would act.\nOfficials said talks went well."
    assert ids({"en": text}) == []


def test_bilingual_article_counts_one_person_once():
    speakers = extract_speakers({"zh": "普京表示，合作很好。", "en": "Putin said cooperation is good."})
    assert [(s.id, s.quotes, s.names["zh"], s.names["en"]) for s in speakers] == [("vladimir-putin", 2, "普京", "Vladimir Putin")]


def test_precision_and_recall_on_the_hand_labeled_sample():
    # An English paragraph's speakers are often named in full earlier in its article ("Baker
    # said" after "Treasury Secretary James Baker"): the articles come from the shared corpora.
    shared_corpus("jsonl", "reuters21578.jsonl")
    report = evaluate(load_gold())
    assert report["all"]["paragraphs"] >= 100
    assert report["all"]["precision"] >= 0.9, report
    assert report["all"]["recall"] >= 0.9, report


def test_precision_and_recall_on_the_hand_labeled_chinese_paragraphs_alone():
    """Without the shared corpora too: a Chinese paragraph is read on its own."""
    report = evaluate([row for row in load_gold() if row["lang"] == "zh"])
    assert report["zh"]["paragraphs"] >= 50
    assert report["zh"]["precision"] >= 0.9 and report["zh"]["recall"] >= 0.9, report


@pytest.mark.parametrize(
    "text, name",
    [
        ("丁薛祥表示，要加强。", "丁薛祥"),  # jieba cuts 丁 / 薛祥
        ("越南总理范明政表示，双方合作。", "范明政"),
        ("古特雷斯表示，气候变化是挑战。", "古特雷斯"),  # 古 / 特雷斯
        ("泽连斯基表示，希望停火。", "泽连斯基"),  # 泽 / 连斯基
        ("乌克兰总统泽连斯基当天表示，希望停火。", "泽连斯基"),  # no 当天 glued on
        ("中共中央总书记习近平近日对政法工作作出重要指示强调，要坚持。", "习近平"),
        ("欧阳明高表示，电池技术进步很快。", "欧阳明高"),  # double surname
        ("须晓东表示，工作顺利。", "须晓东"),  # rare surname
        ("司马南说，情况复杂。", "司马南"),
        ("老挝国家主席通伦·西苏里表示，两国友好。", "通伦·西苏里"),  # a ·-joined name whole
    ],
)
def test_chinese_names_end_where_they_end(text, name):
    assert [s.names["zh"] for s in extract_speakers({"zh": text})] == [name]


@pytest.mark.parametrize(
    "text",
    [
        "白宫表示，将继续谈判。",  # a place/institution
        "乌军表示，已击退进攻。",  # an army named after its country
        "胡塞武装发言人表示，将继续行动。胡塞表示，不会停止。",  # a group
        "德国总理表示，将访问中国。",  # a title without a name
        "党的二十大报告指出，要坚持发展。",  # a political term
        "他多次表示，合作很重要。",  # an adverb
        "俄罗斯别尔哥罗德州官员表示，炮击造成损失。别尔哥罗德表示，局势紧张。",  # a place
        "乌克兰国家通讯社报道称，局势紧张。",  # a place and a word, though every character could spell a name
        "沙特表示，欢迎各方对话。",  # a country
    ],
)
def test_organisations_places_terms_and_titles_are_not_speakers(text):
    assert extract_speakers({"zh": text}) == []


def test_bilingual_halves_pair_by_sound():
    speakers = extract_speakers({"zh": "帕利说，法国将拥有巡逻卫星。", "en": "Parly said that France would soon have patrol satellites."})
    assert [(s.names["zh"], s.names["en"], s.quotes) for s in speakers] == [("帕利", "Parly", 2)]


def test_a_person_quoted_in_one_half_takes_the_name_the_other_half_gives():
    parenthesized = extract_speakers({"zh": "多米尼克•拉布（Dominic Raab）表示，政府不会道歉。", "en": "The Foreign Secretary defended the decision."})
    assert [(s.names["zh"], s.names["en"]) for s in parenthesized] == [("多米尼克·拉布", "Dominic Raab")]
    named = extract_speakers({"zh": "香港特区政府财政司司长陈茂波26日表示，香港正面对新一波疫情。", "en": "Financial Secretary Paul Chan Mo-po said Hong Kong faces a new wave."})
    assert [(s.names["zh"], s.names["en"]) for s in named] == [("陈茂波", "Paul Chan Mo-po")]


def test_precision_recall_and_both_names_on_the_bilingual_set():
    report = evaluate_bilingual(load_gold(BILINGUAL))
    assert report["sentences"] >= 300 and report["labelled_in_both_languages"] >= 150
    assert report["precision"] >= 0.95, report
    assert report["recall"] >= 0.9, report
    assert report["both_names"] >= 0.9, report


def test_a_surname_alone_and_the_full_name_are_one_person_in_the_directory(tmp_path):
    import json

    from search.filters import SearchFilters
    from search.indexer import Indexer
    from search.searcher import Engine

    rows = [
        {"id": "full", "body": "Treasury Secretary James Baker said the dollar had fallen far enough."},
        {"id": "short", "body": "Treasury Secretary Baker said talks would resume next week."},
        {"id": "other", "body": "Prices rose in March, the agency said."},
    ]
    (tmp_path / "docs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    Indexer(str(tmp_path / "index")).run([str(tmp_path / "docs.jsonl")])
    engine = Engine(str(tmp_path / "index"))
    try:
        bakers = [e for e in engine.suggest_speakers("Baker") if "Baker" in (e["names"]["en"] or "")]
        assert [(e["names"]["en"], e["count"]) for e in bakers] == [("James Baker", 2)]
        for name in ("Baker", "James Baker"):
            found = engine.search("*", filters=SearchFilters(speaker=name))
            assert {hit.id for hit in found.hits} == {"full", "short"}, name
    finally:
        engine.close()
