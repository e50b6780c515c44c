"""Cross-language versions (search/crosslink.py): a Chinese article and its English version,
published separately, become one story; other stories on the same event stay apart."""

from __future__ import annotations

import itertools
import json
import struct
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from search import crosslink, dedup
from search.crosslink import CrossLinker, feature_set
from search.dedup import features
from search.filters import SearchFilters
from search.indexer import Indexer
from search.model import Article
from search.searcher import Engine
from tests.conftest import SHARED
from tests.dupdata import seed_article

NEWS = (SHARED / "jsonl" / "xwlb.jsonl", SHARED / "jsonl" / "reuters21578.jsonl")
#: Word rarities need a corpus: this many articles of each news file are indexed first.
BACKGROUND = 700

OTHER_EN = {
    "id": "other-en", "date": "2024-10-23T18:00:00+08:00", "source": "Wire",
    "title": "Xi meets Modi in Kazan, first formal talks in five years",
    "body": "KAZAN, Russia, Oct. 23 (Xinhua) -- Chinese President Xi Jinping met with Indian Prime Minister Narendra Modi on "
            "Wednesday on the sidelines of the 16th BRICS Summit in Kazan. It was the first formal meeting between the two leaders "
            "in five years. Xi said China and India are both ancient civilizations, major developing countries and important members "
            "of the Global South. The two sides should handle the border question properly and keep peace and tranquility in the "
            "border areas, Xi said. Modi said the agreement reached by the two countries on patrolling along the Line of Actual "
            "Control was welcome, and that mutual trust, mutual respect and mutual sensitivity should be the basis of the "
            "relationship. The leaders agreed that the special representatives on the boundary question would meet soon.",
}
OTHER_ZH = {
    "id": "other-zh", "date": "2024-10-23T20:00:00+08:00", "source": "测试",
    "title": "金砖国家领导人第十六次会晤在喀山开幕",
    "body": "新华社喀山10月23日电 金砖国家领导人第十六次会晤23日在俄罗斯喀山举行。会议主题为“加强多边主义，促进公正的全球发展与安全”。"
            "与会领导人围绕全球经济形势、国际金融体系改革、粮食安全和气候变化等议题深入交换意见。"
            "会晤通过了《喀山宣言》，宣言强调维护以联合国为核心的国际体系，支持扩大新开发银行的成员规模，"
            "鼓励在金砖国家之间的贸易中更多使用本币结算，并提出建立金砖谷物交易平台。"
            "这是金砖机制扩员后举行的首次领导人会晤，埃及、埃塞俄比亚、伊朗和阿联酋领导人首次以成员国身份出席。",
}


def _versions() -> tuple[dict, dict]:
    """The seed's Chinese and English halves as two articles published separately."""
    seed = seed_article()
    zh = {"id": "version-zh", "title": seed.title["zh"], "body": seed.body["zh"], "date": "2024-10-23T08:59:26+08:00", "source": "新華網"}
    en = {"id": "version-en", "title": seed.title["en"], "body": seed.body["en"], "date": "2024-10-22T23:30:00+00:00", "source": "Xinhua"}
    return zh, en


def _background(folder: Path) -> Path:
    if not all(path.is_file() for path in NEWS):
        pytest.skip(f"{SHARED} not present (word rarities need a corpus)")
    lines = []
    for path in NEWS:
        with path.open(encoding="utf-8") as handle:
            lines += list(itertools.islice(handle, BACKGROUND))
    out = folder / "background.jsonl"
    out.write_text("".join(lines), "utf-8")
    return out


def _write(path: Path, records: list[dict]) -> str:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return str(path)


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> str:
    """The background, then in a second run (incremental: the groups so far are read back from
    the index) the Chinese version, a story on the same day in each language, the English version."""
    folder = tmp_path_factory.mktemp("crossdata")
    index_dir = str(tmp_path_factory.mktemp("crossindex"))
    report = Indexer(index_dir).run([str(_background(folder))])
    assert report.failed == 0, report.failures
    zh, en = _versions()
    report = Indexer(index_dir).run([_write(folder / "news.jsonl", [zh, OTHER_EN, OTHER_ZH, en])])
    assert report.failed == 0 and report.indexed == 4, report.failures
    return index_dir


@pytest.fixture(scope="module")
def engine(index) -> Engine:
    return Engine(index)


def test_a_chinese_article_and_its_english_version_collapse_into_one_hit_with_both_ids(engine):
    result = engine.search("普京 喀山", size=20)
    versions = {"version-zh", "version-en"}
    shown = [hit for hit in result.hits if hit.id in versions]
    assert len(shown) == 1
    assert {shown[0].id, *shown[0].to_dict()["duplicates"]["ids"]} == versions


def test_collapse_false_shows_both_versions(engine):
    result = engine.search("普京 喀山", size=20, filters=SearchFilters(collapse=False))
    assert {"version-zh", "version-en"} <= {hit.id for hit in result.hits}
    assert all("duplicates" not in hit.to_dict() for hit in result.hits)


def test_other_stories_of_the_same_event_in_the_other_language_stay_apart(engine):
    ids = {hit.id for hit in engine.search("喀山 金砖", size=50).hits}
    assert {"other-en", "other-zh"} <= ids
    found = engine.similar("version-zh")
    assert [item["id"] for item in found["versions"]] == ["version-en"]
    assert engine.similar("other-zh")["versions"] == [] and engine.similar("other-en")["versions"] == []


def test_one_run_and_two_runs_give_the_same_groups(index, tmp_path):
    """Incremental (the state rebuilt from the stored features) equals one run over everything."""
    zh, en = _versions()
    one = str(tmp_path / "one")
    report = Indexer(one).run([str(_background(tmp_path)), _write(tmp_path / "news.jsonl", [zh, OTHER_EN, OTHER_ZH, en])])
    assert report.failed == 0
    ids = ["version-zh", "version-en", "other-en", "other-zh"]
    groups = [{i: v["versions"] for i in ids for v in [Engine(path).similar(i)]} for path in (one, index)]
    assert groups[0] == groups[1]


# The parts, without an index


def _article(article_id: str, lang: str, text: str, day: int | None = 22) -> Article:
    date = datetime(2024, 10, day, tzinfo=timezone.utc) if day else None
    return Article(article_id, body={lang: text}, date=date)


def test_names_and_amounts_are_the_same_features_in_both_languages():
    zh = feature_set("普京说，投资3.5亿美元，2021年", "zh")
    en = feature_set("Putin said the investment was 350 million dollars in 2021", "en")
    shared = {crosslink._hash(k) for k in ("putin", "#350000000", "#2021", "invest")}
    assert shared <= zh and shared <= en
    assert feature_set("習近平", "zh") == feature_set("习近平", "zh")  # either script


def test_a_bilingual_or_empty_article_has_no_cross_language_features():
    seed = seed_article()
    assert features(seed) is None
    assert features(Article("empty", body={"en": ""})) is None
    lang, found = features(Article("en", body={"en": seed.body["en"]}))
    assert lang == "en" and np.all(np.diff(found.astype(np.int64)) > 0)  # sorted, distinct


def _with_corpus(deduper: dedup.Deduper) -> dedup.Deduper:
    """Word rarities as after 1,000 other articles (of day 1, never a candidate): features of their own."""
    rng = np.random.default_rng(16)
    for n in range(1000):
        deduper.cross.load(f"corpus-{n}", "en", np.unique(rng.integers(0, 2**32, 200, dtype=np.uint32)), 1)
    return deduper


def _linker_with(found: np.ndarray, day: int | None) -> CrossLinker:
    linker = CrossLinker()
    linker.load("en", "en", found, day)
    return linker


def test_candidates_are_the_other_language_within_the_date_window_and_undated_with_undated():
    found = np.arange(50, dtype=np.uint32)
    day = datetime(2024, 10, 22).toordinal()
    assert _linker_with(found, day).candidates("zh", day + crosslink.DATE_WINDOW) == ["en"]
    assert _linker_with(found, day).candidates("zh", day + crosslink.DATE_WINDOW + 1) == []
    assert _linker_with(found, day).candidates("en", day) == []
    assert _linker_with(found, None).candidates("zh", None) == ["en"]
    assert _linker_with(found, None).candidates("zh", day) == []
    assert _linker_with(found, day).candidates("zh", None) == []


def test_texts_sharing_few_features_never_link():
    linker = _with_corpus(dedup.Deduper()).cross
    a = np.arange(0, 40, dtype=np.uint32)
    b = np.arange(40 - crosslink.MIN_SHARED + 1, 80, dtype=np.uint32)
    assert linker.similarity(a, b) == 0.0
    assert linker.similarity(a, a) == pytest.approx(1.0)


def test_a_group_holding_an_article_in_this_language_takes_no_translation():
    """The next story on the same subject does not join a story already linked to its translation."""
    seed = seed_article()
    zh, en = Article("zh", body={"zh": seed.body["zh"]}), Article("en", body={"en": seed.body["en"]})
    deduper = _with_corpus(dedup.Deduper())
    assert deduper.add("en", dedup.signatures(en), None, features(en)) == "en"
    assert deduper.add("zh", dedup.signatures(zh), None, features(zh)) == "en"
    # The same Chinese text with another ending is no copy for MinHash here (a third of it), but its
    # best translation candidate's group already has a Chinese article.
    third = Article("zh2", body={"zh": seed.body["zh"][: len(seed.body["zh"]) // 3] + OTHER_ZH["body"]})
    assert deduper.cross.best_match("zh", features(third)[1], None)[0] == "en"
    assert deduper.add("zh2", dedup.signatures(third), None, features(third)) == "zh2"


def test_grouping_is_deterministic_and_the_features_are_stored():
    seed = seed_article()
    articles = [_article("zh", "zh", seed.body["zh"]), _article("en", "en", seed.body["en"], 23), _article("x", "zh", OTHER_ZH["body"], 23)]
    assert dedup.group_all(articles) == dedup.group_all(articles)
    sigs, feats = dedup.signatures(articles[0]), features(articles[0])
    back_sigs, back_feats = dedup.decode_all(dedup.encode(sigs, feats))
    assert back_feats[0] == "zh" and np.array_equal(back_feats[1], feats[1])
    assert np.array_equal(back_sigs["zh"].hashvalues, sigs["zh"].hashvalues)
    # An index written before the features existed (version 2: 32-bit values) is still read,
    # without them, and its values compare with today's (cut to the same bits).
    full = sigs["zh"].hashvalues.astype("<u4") | np.uint32(0xABCD0000)
    old = bytes([2]) + b"zh" + struct.pack("<I", sigs["zh"].size) + full.tobytes()
    assert dedup.decode_all(old)[1] is None and np.array_equal(dedup.decode(old)["zh"].hashvalues, sigs["zh"].hashvalues)
    # Version 3: 32-bit values, then the features.
    old = bytes([3, 1]) + b"zh" + struct.pack("<I", sigs["zh"].size) + full.tobytes() + b"zh" + feats[1].astype("<u4").tobytes()
    back_sigs, back_feats = dedup.decode_all(old)
    assert np.array_equal(back_sigs["zh"].hashvalues, sigs["zh"].hashvalues) and np.array_equal(back_feats[1], feats[1])
    # Version 4 stores each value in two bytes.
    assert len(dedup.encode(sigs)) == 2 + 2 + 4 + 2 * dedup.NUM_PERM


def test_feature_frequencies_count_the_held_articles_whatever_the_order():
    """Articles loaded before the first question are counted at once (numpy), later ones when
    the next question comes, removals one by one: the frequencies are a plain count over the
    articles held."""
    from collections import Counter

    gen = np.random.RandomState(3)
    for trial in range(20):
        linker = CrossLinker()
        held: dict[str, np.ndarray] = {}
        ops = gen.randint(0, 4, 60)
        for n, op in enumerate(ops):
            if op < 2 or not held:  # load
                found = np.unique(gen.randint(0, 50, gen.randint(0, 12))).astype(np.uint32)
                held[f"a{n}"] = found
                linker.load(f"a{n}", "zh", found, None)
            elif op == 2:  # remove
                victim = sorted(held)[gen.randint(len(held))]
                del held[victim]
                linker.remove(victim)
            else:  # ask
                asked = np.unique(gen.randint(0, 60, gen.randint(0, 15))).astype(np.uint32)
                counts = Counter(int(f) for found in held.values() for f in found)
                assert linker.frequencies(asked).tolist() == [float(counts[int(f)]) for f in asked]
                assert linker.count == len(held)
