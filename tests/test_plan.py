"""The backend-neutral plan: what planning produces, how each backend compiles it, who imports what."""

from __future__ import annotations

import ast
from pathlib import Path

from whoosh import query as wq

from search.backends.opensearch.dsl import compile_node as to_dsl
from search.backends.whoosh.compile import compile_node as to_whoosh
from search.query import plan as qp
from search.query.build import plan
from search.query.parse import parse

ROOT = Path(__file__).resolve().parent.parent


def imports_of(folder: Path) -> dict[str, set[str]]:
    """Module file → the top-level names of everything it imports."""
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def test_planning_and_the_web_know_no_storage():
    for folder in (ROOT / "search" / "query", ROOT / "web"):
        for module, names in imports_of(folder).items():
            storage = {n for n in names if n.split(".")[0] in ("whoosh", "opensearchpy") or n.startswith("search.backends.")}
            assert not storage, f"{module} imports {sorted(storage)}"


def test_a_search_plans_to_plain_data():
    planned = plan(parse('普京 "一带一路" -美国 title:Kazan'), "…")
    nodes = list(walk(planned.primary))
    assert all(isinstance(node, qp.Node) for node in nodes)
    assert qp.Phrase("body_zh", ("一带", "一路")) in nodes
    assert any(isinstance(node, qp.Without) for node in nodes)
    assert {node.field for node in nodes if isinstance(node, qp.Term) and node.text == "kazan"} == {"title_zh", "title_en"}


def test_backends_compile_the_same_plan():
    node = qp.Without(qp.All((qp.Term("body_zh", "普京", 2.0), qp.Phrase("title_en", ("oil", "price")))), qp.Term("body_en", "war"))
    assert to_whoosh(node) == wq.AndNot(wq.And([wq.Term("body_zh", "普京", boost=2.0), wq.Phrase("title_en", ["oil", "price"])]), wq.Term("body_en", "war"))
    dsl = to_dsl(node)["bool"]
    assert dsl["must_not"] == [{"term": {"body_en": {"value": "war", "boost": 1.0}}}]
    term, phrase = dsl["must"][0]["bool"]["must"]
    assert term == {"term": {"body_zh": {"value": "普京", "boost": 2.0}}}
    assert phrase["span_near"]["clauses"] == [{"span_term": {"title_en": "oil"}}, {"span_term": {"title_en": "price"}}]
    assert phrase["span_near"]["slop"] == 0 and phrase["span_near"]["boost"] == 2.5  # the title weight
    assert to_dsl(qp.NOTHING) == {"match_none": {}} and to_whoosh(qp.NOTHING) is wq.NullQuery


def walk(node):
    yield node
    for name in ("parts",):
        for part in getattr(node, name, ()):
            yield from walk(part)
    for name in ("required", "optional", "positive", "negative"):
        child = getattr(node, name, None)
        if child is not None:
            yield from walk(child)


def test_a_questions_pairs_inside_stopwords_are_not_searched():
    # 熊猫吃什么: 什么 is a stopword, so its pair is left out as the word is; 吃什 holds 吃 and stays.
    planned = plan(parse("熊猫吃什麼"), "熊猫吃什麼")
    pairs = {node.text for node in walk(planned.fallback) if isinstance(node, qp.Term) and node.field in qp.BIGRAM_FIELDS.values()}
    assert pairs == {"熊猫", "猫吃", "吃什"}
    exact = [node for node in walk(planned.primary) if isinstance(node, qp.Phrase) and node.field == "body_bigrams"]
    assert qp.Phrase("body_bigrams", ("熊猫", "猫吃", "吃什", "什么")) in exact  # the typed string is still found whole


def test_a_questions_word_the_index_does_not_hold_is_searched_as_the_words_inside_it():
    # jieba reads 白岳峰现 (the name and the 现 of 现效力) in the question; the articles hold 白岳峰.
    held = {"白岳峰", "效力", "天津", "球队"}
    planned = plan(parse("白岳峰现效力于天津球队？"), "…", lambda field, term: field == "body_zh" and term in held)
    complete = planned.primary.required.parts[0]
    assert {node.text for node in complete.parts} == {"白岳峰", "效力", "天津", "球队"}
    assert "白岳峰" in planned.highlight


def test_a_word_typed_alone_is_not_split_into_the_words_the_index_holds():
    planned = plan(parse("白岳峰现"), "…", lambda field, term: field == "body_zh" and term == "白岳峰")
    assert not any(isinstance(node, qp.Term) and node.text == "白岳峰" for node in walk(planned.primary))


def test_a_questions_word_asking_which_is_left_out_with_its_pairs():
    # jieba makes 哪一年 one word, so the stopword list (哪, 哪个, 哪些) misses it: the paragraph
    # that answers holds 1990年, not 哪一年. 哪吒 is a name, not a question.
    planned = plan(parse("白岳峰在哪一年出生？"), "白岳峰在哪一年出生？")
    words = {node.text for node in walk(planned.fallback) if isinstance(node, qp.Term) and node.field == "body_zh"}
    pairs = {node.text for node in walk(planned.fallback) if isinstance(node, qp.Term) and node.field == "body_bigrams"}
    assert words == {"白岳峰", "出生"}
    assert "哪一" not in pairs and "一年" not in pairs and "白岳" in pairs
    planned = plan(parse("哪吒的父亲是谁"), "哪吒的父亲是谁")
    assert "哪吒" in {node.text for node in walk(planned.primary) if isinstance(node, qp.Term)}
