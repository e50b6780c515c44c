"""A web test index for the search page as a daily tool: the web test index plus many speakers
(more than the facet shows at first), a month of daily stories (the timeline by day), a
hard-wrapped wire story and a simplified story with 为/着 (the 繁體 display)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from search.backends.whoosh.indexing import to_document
from search.indexer import content_hash
from search.model import Article, Speaker
from search.backends.whoosh.store import open_or_create
from tests.webdata import CST, build_web_index

#: Fourteen people (more than the ten the facet shows before "Show more"), each quoted once or more.
PEOPLE = [
    ("li-qiang", "李强", "Li Qiang"), ("wang-yi", "王毅", "Wang Yi"), ("antonio-guterres", "古特雷斯", "Antonio Guterres"),
    ("lula", "卢拉", "Lula da Silva"), ("narendra-modi", "莫迪", "Narendra Modi"), ("cyril-ramaphosa", "拉马福萨", "Cyril Ramaphosa"),
    ("recep-erdogan", "埃尔多安", "Recep Erdogan"), ("masoud-pezeshkian", "佩泽希齐扬", "Masoud Pezeshkian"),
    ("abiy-ahmed", "阿比", "Abiy Ahmed"), ("sergey-lavrov", "拉夫罗夫", "Sergey Lavrov"), ("ding-xuexiang", "丁薛祥", "Ding Xuexiang"),
    ("han-zheng", "韩正", "Han Zheng"), ("zhao-leji", "赵乐际", "Zhao Leji"), ("cai-qi", "蔡奇", "Cai Qi"),
]
DAILY_ID = "daily-{:02d}"
WIRE_ID = "wire-cocoa-1"
TW_ID = "tw-forms-1"
WIRE_BODY = (
    "Showers continued throughout the week in\n"
    "the Bahia cocoa zone, alleviating the drought since early\n"
    "January and improving prospects for the coming temporao,\n"
    "although normal humidity levels have not been restored,\n"
    "Comissaria Smith said in its weekly review.\n"
    "    The dry period means the temporao will be late this year.\n"
    "    Arrivals for the week ended February 22 were 155,221 bags\n"
    "of 60 kilos making a cumulative total for the season of 5.93\n"
    "mln against 5.81 at the same stage last year.\n"
)


def _articles() -> list[Article]:
    out = []
    for day in range(1, 29):  # October 2024, one story a day; speaker n is quoted in n + 1 stories
        quoted = tuple(
            Speaker(sid, {"zh": zh, "en": en}, 1) for n, (sid, zh, en) in enumerate(PEOPLE) if day % (n + 2) == 0 or day == n + 1
        )
        out.append(
            Article(
                id=DAILY_ID.format(day),
                title={"zh": f"金砖国家峰会第{day}天", "en": f"BRICS summit, day {day}"},
                body={"zh": f"金砖国家领导人在喀山举行会议，第{day}天。", "en": f"BRICS leaders met in Kazan on day {day}."},
                date=datetime(2024, 10, day, 9, 0, tzinfo=CST),
                source="新华社",
                speakers=quoted,
            )
        )
    out.append(Article(id=WIRE_ID, title={"en": "BAHIA COCOA REVIEW"}, body={"en": WIRE_BODY}, date=datetime(1987, 2, 26, 15, 1, tzinfo=CST), source="Reuters"))
    out.append(
        Article(
            id=TW_ID,
            title={"zh": "为了人民 着力发展"},
            body={"zh": "我们为人民服务，着力推动发展。这里面有很多工作。"},
            date=datetime(2023, 7, 1, 8, 0, tzinfo=CST),
            source="新华社",
        )
    )
    return out


def build_daily_index(base: Path) -> str:
    index_dir = build_web_index(base)
    ix = open_or_create(index_dir)
    writer = ix.writer()
    try:
        for article in _articles():
            writer.update_document(**to_document(article, content_hash(article)))
    except BaseException:
        writer.cancel()
        raise
    writer.commit(optimize=True)  # one segment, as build_web_index (Whoosh's multi-segment column reader)
    ix.close()
    return index_dir
