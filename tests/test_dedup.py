from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
from datasketch import MinHash, MinHashLSH
from datasketch.minhash import _fmix

from search import dedup
from search.dedup import LSH_BANDS, LSH_THRESHOLD, NUM_PERM, SEED, VERIFY, BandLSH, Deduper, Fingerprinter, day_of, decode, encode, fingerprint, group_all, minhash, shingles, signatures
from search.model import Article
from tests.dupdata import seed_article


def _article(article_id: str, body: dict, day: int = 1) -> Article:
    return Article(article_id, body=body, date=datetime(2024, 10, day, tzinfo=timezone.utc))


def test_minhash_is_datasketchs():
    hashes = np.array([1, 7, 123456789, 2**32 - 1], dtype=np.uint64)
    reference = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=lambda value: value, scheme="affine32")
    reference.update_batch(hashes.tolist())
    # The lowest BITS bits of each of its values (b-bit minwise hashing).
    assert np.array_equal(minhash(hashes), reference.hashvalues & ((1 << dedup.BITS) - 1))
    assert np.array_equal(np.array(dedup._PERMUTATIONS), reference.permutations)
    values = np.random.RandomState(1).randint(0, 2**32, 1000, dtype=np.uint64).astype(np.uint32)
    assert np.array_equal(dedup._fmix32(values), _fmix(values, 32))


def test_band_lsh_finds_what_datasketchs_lsh_finds():
    reference = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
    assert (reference.b, reference.r) == LSH_BANDS
    ours = BandLSH(*LSH_BANDS)
    # Signatures of sets drawn from a small universe, so that many share bands.
    gen = np.random.RandomState(7)
    sigs = {f"k{n}": minhash(gen.randint(0, 40, gen.randint(1, 30)).astype(np.uint64)) for n in range(300)}
    for key, values in sigs.items():
        reference.insert(key, MinHash(num_perm=NUM_PERM, seed=SEED, hashvalues=values, scheme="affine32"))
        ours.insert(key, values)
    for key in list(sigs)[::3]:
        reference.remove(key)
        ours.remove(key)
    for key in list(sigs)[::6]:  # back in, then others out: buckets of one key and of several change both ways
        reference.insert(key, MinHash(num_perm=NUM_PERM, seed=SEED, hashvalues=sigs[key], scheme="affine32"))
        ours.insert(key, sigs[key])
    for key in list(sigs)[1::4]:
        if key in ours.keys:
            reference.remove(key)
            ours.remove(key)
    shared = 0
    for values in sigs.values():
        found = set(reference.query(MinHash(num_perm=NUM_PERM, seed=SEED, hashvalues=values, scheme="affine32")))
        assert ours.query(values) == found
        shared += len(found) > 1
    assert shared > 50  # the comparison saw buckets shared by several keys


def test_traditional_and_simplified_copies_have_the_same_signature():
    seed = seed_article()
    trad = signatures(Article("t", body={"zh": seed.body["zh"]}))
    import opencc

    simp = signatures(Article("s", body={"zh": opencc.OpenCC("t2s").convert(seed.body["zh"])}))
    assert trad["zh"].similarity(simp["zh"]) == 1.0


def test_bilingual_article_groups_with_each_single_language_copy():
    seed = seed_article()
    groups = group_all([
        Article("both", title=seed.title, body=seed.body, date=seed.date),
        Article("en", body={"en": seed.body["en"]}, date=seed.date),
        Article("zh", body={"zh": seed.body["zh"]}, date=seed.date),
    ])
    assert groups == {"both": "both", "en": "both", "zh": "both"}


def test_templated_reports_with_other_figures_stay_apart():
    template = "国家卫生健康委今天（9月{d}日）通报，9月{p}日0—24时，31个省报告新增确诊病例{n}例，其中境外输入病例{m}例，本土病例{k}例。"
    one = _article("a", {"zh": template.format(d=24, p=23, n=188, m=59, k=129) * 2}, 24)
    two = _article("b", {"zh": template.format(d=25, p=24, n=217, m=58, k=159) * 2}, 25)
    assert signatures(one)["zh"].similarity(signatures(two)["zh"]) < VERIFY
    assert group_all([one, two]) == {"a": "a", "b": "b"}


def test_same_text_outside_the_date_window_is_another_story():
    text = {"en": "The Federal Reserve entered the government securities market to arrange customer repurchase agreements, a spokesman said. " * 3}
    assert group_all([_article("a", text, 1), _article("b", text, 2), _article("c", text, 20)]) == {"a": "a", "b": "a", "c": "c"}


def test_short_texts_match_only_exact_copies():
    short = signatures(_article("a", {"en": "Oil prices rose."}))
    assert short["en"].short
    d = Deduper()
    assert d.add("a", short, 1) == "a"
    assert d.add("b", signatures(_article("b", {"en": "Oil prices rose"})), 1) == "a"
    assert d.add("c", signatures(_article("c", {"en": "Oil prices fell."})), 1) == "c"


def test_grouping_is_deterministic_and_survives_encoding():
    seed = seed_article()
    arts = [Article(f"a{i}", body={"en": seed.body["en"][i * 10 :]}, date=seed.date) for i in range(5)]
    assert group_all(arts) == group_all(arts)
    sigs = signatures(arts[0])
    back = decode(encode(sigs))
    assert back is not None and set(back) == {"en"}
    assert np.array_equal(back["en"].hashvalues, sigs["en"].hashvalues)
    rebuilt = Deduper()
    rebuilt.load("a0", back, "a0", day_of(arts[0]))
    assert rebuilt.add("a1", signatures(arts[1]), day_of(arts[1])) == "a0"


def test_replacing_an_article_regroups_it():
    d = Deduper()
    text = {"en": "Stocks rose on Monday as investors cheered cooperation between trading partners in the region. " * 2}
    d.add("a", signatures(_article("a", text)), 1)
    assert d.add("b", signatures(_article("b", text)), 1) == "a"
    other = {"en": "Showers continued throughout the week in the cocoa zone, alleviating the long drought for farmers. " * 2}
    assert d.add("b", signatures(_article("b", other)), 1) == "b"


def test_shingles_ignore_script_width_and_punctuation():
    assert np.array_equal(shingles("中俄關係，ＢＲＩＣＳ 2024", "zh"), shingles("中俄关系 brics2024", "zh"))


# --- fingerprints computed ahead in a helper process -------------------------------------------


def _many_articles(n: int) -> list[Article]:
    """Copies of the seed (traditional, simplified, English) among ``n`` filler stories."""
    import opencc

    seed = seed_article()
    t2s = opencc.OpenCC("t2s")
    copies = [
        Article("trad", title={"zh": seed.title["zh"]}, body={"zh": seed.body["zh"]}, date=seed.date),
        Article("simp", title={"zh": t2s.convert(seed.title["zh"])}, body={"zh": t2s.convert(seed.body["zh"])}, date=seed.date),
        Article("en", title={"en": seed.title["en"]}, body={"en": seed.body["en"]}, date=seed.date),
    ]
    filler = [
        _article(f"f{i:04d}", {"en" if i % 2 else "zh": (f"Report {i} on the grain harvest in province {i % 7}. " * 6 if i % 2 else f"第{i}号报告：第{i % 7}省粮食收成。" * 6)}, i % 28 + 1)
        for i in range(n)
    ]
    return filler[: n // 2] + copies + filler[n // 2 :]


def test_fingerprints_from_the_helper_process_equal_the_inline_ones_in_order():
    articles = _many_articles(150)
    ahead = Fingerprinter(link=True, parallel=True)
    try:
        got = [item for article in articles for item in ahead.push(article.id, article)]
        got += list(ahead.drain())
    finally:
        ahead.close()
    assert [key for key, _, _ in got] == [a.id for a in articles]
    for article, (_, sigs, feats) in zip(articles, got):
        want_sigs, want_feats = fingerprint(article)
        assert encode(sigs, feats) == encode(want_sigs, want_feats), article.id


def test_fingerprints_come_back_as_soon_as_they_are_done_not_after_the_tasks_ahead():
    """The first articles of a run go on to the writer processes when their fingerprints are
    back: a task that is done is received on the next chunk sent, though fewer than
    ``AHEAD`` tasks are in flight."""
    articles = _many_articles(2 * Fingerprinter.CHUNK)
    first, second = articles[: Fingerprinter.CHUNK], articles[Fingerprinter.CHUNK :]
    ahead = Fingerprinter(link=True, parallel=True)
    try:
        assert [item for article in first for item in ahead.push(article.id, article)] == []
        for _, future in ahead._flight:
            future.result()  # done, not yet received by the Fingerprinter
        got = [item for article in second for item in ahead.push(article.id, article)]
        assert [key for key, _, _ in got] == [a.id for a in first]
        rest = list(ahead.drain())
    finally:
        ahead.close()
    assert [key for key, _, _ in rest] == [a.id for a in second]


def test_a_dead_fingerprint_process_fails_the_batch_loudly():
    import os
    import signal

    import pytest

    from search.errors import WriterProcessError

    articles = _many_articles(100)
    ahead = Fingerprinter(link=True, parallel=True)
    try:
        for article in articles[: Fingerprinter.CHUNK]:
            list(ahead.push(article.id, article))
        os.kill(ahead._pool.process.pid, signal.SIGKILL)
        with pytest.raises(WriterProcessError, match="run the same command again"):
            for article in articles[Fingerprinter.CHUNK :]:
                list(ahead.push(article.id, article))
            list(ahead.drain())
    finally:
        ahead.close()


def test_a_large_indexing_batch_groups_as_one_article_at_a_time(tmp_path):
    """Writer processes and fingerprints computed ahead: the groups stored are the ones
    :func:`group_all` finds taking the same articles one by one."""
    import json

    from search.backends.whoosh.groups import group_numbers
    from search.backends.whoosh.indexing import PARALLEL_MIN_BATCH
    from search.backends.whoosh.store import open_index
    from search.indexer import Indexer
    from search.ingest import load_file

    articles = _many_articles(PARALLEL_MIN_BATCH + 100)
    path = tmp_path / "news.jsonl"
    rows = []
    for a in articles:
        lang = a.languages[0]
        rows.append({"id": a.id, "title": a.text("title", lang) or "", "body": a.text("body", lang), "date": a.date.isoformat(), "lang": lang})
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    loaded = [article for _, article in load_file(str(path)).articles]
    expected = group_all(loaded)
    assert expected["simp"] == expected["trad"] == expected["en"]  # the copies are one story

    Indexer(str(tmp_path / "index"), procs=2).run([str(path)])
    with open_index(str(tmp_path / "index")).searcher() as s:
        numbers, names = group_numbers(s.reader())
        stored = {s.stored_fields(n)["id"]: names[numbers[n]] for n in range(s.doc_count_all())}
    assert stored == expected
