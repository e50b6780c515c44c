"""search.rerank: the first hits of a long Chinese query re-ordered by the longest stretch of it
they hold; on a real Whoosh index, pages of any size agree."""

from __future__ import annotations


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search import rerank
from search.query.parse import parse
from tests.conftest import articles_engine, articles_fixture

PASTED = "中國隊在決賽中以三比一擊敗日本隊後奪得冠軍"  # the article says it without 後
FILLER = "本届赛事共有十六支球队参加，比赛在多个城市举行，观众人数创下新高。"
ARTICLES = [
    # Every word of the sentence, short and repeated, never in its order: the words' scores favour it.
    {"id": "scattered", "title": "冠军 决赛", "body": "日本队 冠军 决赛 中国队 击败 夺得 三比一。"},
    # The sentence as written, in a long article.
    {"id": "verbatim", "title": "赛事回顾", "body": FILLER + "中国队在决赛中以三比一击败日本队夺得冠军。"},
]
TOPICS = ["游泳", "田径", "篮球", "排球", "乒乓球", "羽毛球", "网球", "体操", "举重", "射击", "击剑", "柔道"]
CITIES = ["北京", "上海", "广州", "深圳", "成都", "杭州", "南京", "武汉", "西安", "重庆", "天津", "青岛"]
# Articles holding some of the words (distinct stories: collapsing near-duplicates would merge them).
ARTICLES += [
    {"id": f"other{n}", "title": f"{topic}赛况", "body": f"{city}{topic}比赛第{n}轮，日本队{'击败' if n % 2 else '负于'}对手。{topic}决赛将在{city}举行。"}
    for n, (topic, city) in enumerate(zip(TOPICS, CITIES), 1)
]


engine = articles_fixture(ARTICLES, "rerank")


def _ids(engine, query: str, **kw) -> list[str]:
    return [hit.id for hit in engine.search(query, highlight=False, facets=False, **kw).hits]


def test_a_pasted_sentence_finds_its_article_first(engine, monkeypatch):
    assert _ids(engine, PASTED)[0] == "verbatim"
    monkeypatch.setattr(rerank, "WEIGHT", 0.0)
    monkeypatch.setattr(rerank, "SENTENCE_WEIGHT", 0.0)
    assert _ids(engine, PASTED)[0] == "scattered", "the test no longer needs the re-ordering: make the words favour the other article"


QUESTION = "长江经济带的生态保护规划是什么"
SENTENCE_ARTICLES = [
    # The question's words in one sentence, in a longer article.
    {"id": "one-sentence", "title": "沿江城市发展综述",
     "body": "沿江各地今年加快发展。在长江流域的经济带建设中，生态保护与规划并重。各地还推进了交通建设和产业升级。"},
    # The same words (and the same longest stretch, 生态保护), one or two per sentence, in a shorter one.
    {"id": "scattered", "title": "沿江城市发展综述",
     "body": "长江沿岸风光秀丽。经济带发展加快。生态保护成效明显。沿岸居民的生活不断改善。新的规划已经出台。"},
] + [
    {"id": f"other{n}", "title": f"{city}{topic}新闻", "body": f"{city}举行{topic}比赛，当地重视生态和环境。{topic}项目规划完成。"}
    for n, (topic, city) in enumerate(zip(TOPICS, CITIES), 1)
]


def test_an_article_holding_the_question_in_one_sentence_comes_before_one_holding_it_scattered(tmp_path, monkeypatch):
    engine = articles_engine(tmp_path, SENTENCE_ARTICLES)
    try:
        assert _ids(engine, QUESTION)[:2] == ["one-sentence", "scattered"]
        assert engine.search(QUESTION, highlight=False, facets=False).total == 2  # both hold every word
        monkeypatch.setattr(rerank, "SENTENCE_WEIGHT", 0.0)
        assert _ids(engine, QUESTION)[:2] == ["scattered", "one-sentence"], "the words' scores no longer favour the scattered article"
    finally:
        engine.close()


def test_pair_weights_are_rarer_pairs_weighing_more(tmp_path):
    engine = articles_engine(tmp_path, SENTENCE_ARTICLES)
    try:
        view = engine.backend.view()
        weights = rerank.pair_weights(["长江经济带生态保护规划"], view.frequencies, view.doc_count)
        assert set(weights) == {"长江", "江经", "经济", "济带", "带生", "生态", "态保", "保护", "护规", "规划"}
        # 生态 and 规划 are in every article, 长江 in two, 江经 in none.
        assert weights["江经"] > weights["长江"] > weights["生态"] > 0
        assert weights["生态"] == weights["规划"]
    finally:
        engine.close()


def test_pages_of_any_size_agree_with_one_page(engine):
    whole = _ids(engine, PASTED, size=20)
    assert len(whole) > rerank.DEPTH
    for size in (1, 3, 7):
        paged: list[str] = []
        for page in range(1, 20 // size + 2):
            paged += _ids(engine, PASTED, size=size, page=page)
        assert paged == whole, f"pages of {size}"


def test_scores_still_fall_down_the_page(engine):
    result = engine.search(PASTED, highlight=False, facets=False)
    complete = result.hits[: result.total]
    partial = result.hits[result.total :]
    for tier in (complete, partial):
        scores = [hit.score for hit in tier]
        assert scores == sorted(scores, reverse=True)


def test_date_order_and_deep_pages_are_left_alone(engine, monkeypatch):
    from search.filters import SearchFilters

    def refuse(*args, **kw):
        raise AssertionError("re-ordered")

    monkeypatch.setattr(rerank, "rerank", refuse)
    assert len(engine.search(PASTED, filters=SearchFilters(sort="date"), size=20).hits) == 14
    assert len(engine.search(PASTED, page=2, size=10).hits) == 4
    with pytest.raises(AssertionError, match="re-ordered"):
        engine.search(PASTED, page=1, size=10)


@pytest.mark.parametrize(
    "query, stretches",
    [
        ("誰認為希臘語、拉丁語與梵語", ["谁认为希腊语拉丁语与梵语"]),
        ("约有5万人", ["约有5万人"]),
        ("約有５萬人", ["约有5万人"]),  # width folded as the text is
        ("普京 乌克兰 NOT 美国总统", ["普京乌克兰"]),
        ("习近平讲话 OR 李强讲话", ["习近平讲话", "李强讲话"]),
        ("title:中国队 决赛", []),  # a word for one field splits the stretch; 决赛 alone is too short
        ("普京", []),
        ("Kazan 会晤 harvest 普京讲话", ["普京讲话"]),  # 会晤 alone is too short: Latin words split stretches
        ("climate change", []),
    ],
)
def test_typed_stretches(query, stretches):
    assert rerank.typed_stretches(parse(query).node) == stretches


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="甲乙丙丁", max_size=12), st.text(alphabet="甲乙丙丁", max_size=40))
def test_longest_common_is_the_longest_common_substring(query, text):
    brute = max((j - i for i in range(len(query)) for j in range(i + 1, len(query) + 1) if query[i:j] in text), default=0)
    assert rerank.longest_common(query, text) == brute


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.text("甲乙丙丁", min_size=2, max_size=2), st.floats(0.1, 5.0), max_size=6),
    st.lists(st.text("甲乙丙丁戊", min_size=1, max_size=12), max_size=6),
)
def test_the_best_sentence_is_the_one_holding_the_most_pair_weight(weights, sentences):
    naive = max((sum(w for pair, w in weights.items() if pair in sentence) for sentence in sentences), default=0.0)
    total = sum(weights.values())
    assert rerank.best_sentence(weights, sentences) == pytest.approx(naive / total if total else 0.0)
