"""A small real index for the web tests: the seed page, pages of 普京 stories, speakers, captions.

Most articles go through the normal indexer (a JSONL file). A few carry
speakers and captions, which the JSONL reader does not take (speakers are
extracted from text): those are written with the indexer's own
``to_document`` so the stored fields are exactly what indexing produces.
"""

from __future__ import annotations

import json
import shutil
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

from search.indexer import Indexer, content_hash, to_document
from search.model import Article, Speaker
from search.backends.whoosh.store import open_or_create

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "samples" / "000_1797282344cdefbc.txt"
SEED_ID = "000_1797282344cdefbc"
SEED_TITLE = "習近平同俄羅斯總統普京舉行會晤"
SEED_TITLE_HANS = "习近平同俄罗斯总统普京举行会晤"

CST = timezone(timedelta(hours=8))
PUTIN = Speaker("vladimir-putin", {"zh": "普京", "en": "Vladimir Putin"}, 2)
XI = Speaker("xi-jinping", {"zh": "习近平", "en": "Xi Jinping"}, 1)

#: Bilingual 普京 stories, alternately simplified and traditional, one per year 2001-2024 (page fodder).
SERIES = [
    {
        "id": f"series-{i:02d}",
        "title": {
            "zh": (f"普京谈合作前景 第{i}篇" if i % 2 == 0 else f"普京談合作前景 第{i}篇"),
            "en": f"Putin on cooperation, part {i}",
        },
        "body": {
            "zh": (f"普京表示，俄中合作不断深化。这是第{i}篇报道。" if i % 2 == 0 else f"普京表示，俄中合作不斷深化。這是第{i}篇報導。"),
            "en": f"Putin said cooperation between Russia and China keeps deepening. Report number {i}.",
        },
        "date": f"{2000 + i:04d}-03-{1 + i % 27:02d}T08:00:00+08:00",
        "source": "Series Wire",
        "url": f"https://news.example/series/{i}",
    }
    for i in range(1, 25)
]

OTHERS = [
    {
        "id": "unsafe-1",
        "title": "<script>alert('title')</script> Markets & <b>trade</b>",
        "body": "Stocks rose as <img src=x onerror=alert(1)> traders cheered cooperation.\n\nA second paragraph about markets.",
        "date": "2021-01-04T09:00:00+00:00",
        "source": "Test <Wire>",
        "url": "javascript:alert(1)",
    },
    {"id": "en-only-1", "title": "Farmers welcome the harvest", "body": "Farmers said the harvest was good this year.", "source": "Test Wire"},
]

SPEAKER_ARTICLES = [
    Article(
        id="speaker-putin-1",
        title={"zh": "普京在莫斯科发表讲话", "en": "Putin speaks in Moscow"},
        body={"zh": "俄罗斯总统普京表示，俄方愿同各方加强合作。", "en": "Russian President Vladimir Putin said Russia is ready to strengthen cooperation."},
        date=datetime(2022, 3, 1, 9, 30, tzinfo=CST),
        source="新华社",
        url="https://news.example/putin-moscow",
        dateline="新華社莫斯科3月1日電",
        captions={"zh": "普京在克里姆林宫讲话。", "en": "Putin speaks at the Kremlin."},
        speakers=(PUTIN,),
    ),
    Article(
        id="speaker-xi-1",
        title={"zh": "習近平會見外賓", "en": "Xi meets foreign guests"},
        body={"zh": "國家主席習近平在北京會見外賓時表示，中方願同各國深化合作。", "en": "President Xi Jinping said China is willing to deepen cooperation with all countries."},
        date=datetime(2022, 6, 1, 10, 0, tzinfo=CST),
        source="新華網",
        speakers=(XI,),
    ),
    Article(
        id="speaker-both-1",
        title={"zh": "习近平同普京通电话", "en": "Xi, Putin hold phone talks"},
        body={"zh": "习近平同俄罗斯总统普京通电话。普京表示，俄中关系处于历史最好水平。", "en": "Xi Jinping held phone talks with Vladimir Putin."},
        date=datetime(2023, 2, 1, 20, 0, tzinfo=CST),
        source="新华社",
        speakers=(XI, PUTIN),
    ),
]


def build_web_index(base: Path) -> str:
    """Build the index under ``base`` and return its folder."""
    data = base / "data"
    data.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED, data / SEED.name)
    rows = SERIES + OTHERS
    (data / "web.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    index_dir = base / "index"
    report = Indexer(str(index_dir)).run([str(data)])
    assert report.failed == 0, report.failures
    ix = open_or_create(str(index_dir))
    writer = ix.writer()
    try:
        for article in SPEAKER_ARTICLES:
            writer.update_document(**to_document(article, content_hash(article)))
    except BaseException:
        writer.cancel()
        raise
    # One segment: Whoosh's multi-segment column reader misreads segments without speakers
    # (reported; the engine's facets read columns through it).
    writer.commit(optimize=True)
    ix.close()
    return str(index_dir)


def speaker_filter_works(index_dir: str) -> bool:
    """Whether the engine resolves speaker names yet (extraction and aliases are being built)."""
    from search.searcher import Engine

    engine = Engine(index_dir)
    try:
        return bool(engine.speaker_ids("普京")) and engine.search("*", filters=_speaker_filter("普京")).total > 0
    finally:
        engine.close()


def _speaker_filter(name: str):
    from search.filters import SearchFilters

    return SearchFilters(speaker=name)


@contextmanager
def web_app(index_dir, **config) -> Iterator:
    """The Flask app over ``index_dir`` in testing mode (plus ``config``); its engine is closed on exit."""
    from web import create_app

    app = create_app({"INDEX_DIR": str(index_dir), "TESTING": True, **config})
    try:
        yield app
    finally:
        engine = app.extensions.get("engine")
        if engine is not None:
            engine.close()
