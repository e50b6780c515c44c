"""The entity lexicon: kinds from CC-CEDICT, forms with their sources, regional usage, names the index holds."""

from __future__ import annotations

import pytest

from search.lexicon.entities import OTHER, ORGANISATION, PERSON, LearnedNames, mainland_form
from search.lexicon.people import people


@pytest.mark.parametrize("word, kind", [("普京", PERSON), ("王毅", PERSON), ("哈马斯", ORGANISATION), ("白宫", OTHER), ("多次", OTHER)])
def test_cedict_kinds(word, kind):
    assert people().entities.kind_zh(word) == kind


def test_unknown_words_have_no_kind():
    assert people().entities.kind_zh("佩斯科夫") is None


def test_a_person_has_every_form_with_its_source():
    entity = people().entity("川普")
    assert (entity.id, entity.kind) == ("donald-trump", PERSON)
    forms = {(f.text, f.lang, f.source) for f in entity.forms}
    assert ("特朗普", "zh", "cedict") in forms and ("川普", "zh", "curated") in forms
    assert entity.best("zh") == "特朗普" and entity.best("en") == "Donald Trump"
    assert people().entity("Trump").id == "donald-trump"
    assert people().entity("张三丰") is None  # not in the lexicon


@pytest.mark.parametrize("taiwan, mainland", [("网路", "网络"), ("软体", "软件"), ("滑鼠", "鼠标"), ("网络", "网络"), ("关系", "关系")])
def test_mainland_form_of_taiwan_usage(taiwan, mainland):
    assert mainland_form(taiwan) == mainland


def test_learned_names_pair_english_and_chinese():
    names = LearnedNames()
    names.learn({"li-qiang": {"names": {"zh": "李强", "en": "Li Qiang"}}, "zh-佩斯科夫": {"names": {"zh": "佩斯科夫", "en": None}}})
    assert names.zh_for_en("li  QIANG") == ["李强"]
    assert names.zh_for_en("Li Peng") == []
    assert names.zh_names() == {"李强", "佩斯科夫"}
