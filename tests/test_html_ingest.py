"""HTML pages: main text, title, <meta> date; scripts, styles and navigation dropped."""

from __future__ import annotations

from search.indexer import Indexer
from search.ingest import load_file
from search.searcher import Engine

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>習近平同普京舉行會晤 - 新華網</title>
<meta property="article:published_time" content="2024-10-22T21:30:00+08:00">
<script>var tracking = "SCRIPTWORD";</script><style>.x { color: red } STYLEWORD</style></head>
<body><nav><a href="/">首頁</a> <a href="/world">國際</a></nav>
<article><h1>習近平同普京舉行會晤</h1>
<p>新華社俄羅斯喀山10月22日電(記者 郝薇薇)當地時間10月22日下午，國家主席習近平在喀山同俄羅斯總統普京舉行會晤。</p>
<p>習近平指出，今年是中俄建交75週年。75年來，中俄關係風雨兼程，探索出相鄰大國正確相處之道。</p>
<p>普京表示，俄方願同中方進一步深化合作，助力兩國發展振興，共同維護國際公平正義。</p>
</article><footer>Copyright 2024 FOOTERWORD</footer></body></html>"""


def test_html_page_becomes_a_news_article(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(PAGE, "utf-8")
    loaded = load_file(str(path))
    assert not loaded.errors
    ((_, article),) = loaded.articles
    assert article.title["zh"].startswith("習近平同普京舉行會晤")
    assert article.date.isoformat() == "2024-10-22T21:30:00+08:00"
    body = article.body["zh"]
    assert "普京表示" in body and "SCRIPTWORD" not in body and "STYLEWORD" not in body
    assert article.meta["reporters"] == ["郝薇薇"]
    assert {s.id for s in article.speakers} == {"xi-jinping", "vladimir-putin"}


def test_html_is_searchable_and_script_text_is_not(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "page.htm").write_text(PAGE, "utf-8")
    ix = str(tmp_path / "ix")
    assert Indexer(ix).run([str(tmp_path / "data")]).indexed == 1
    engine = Engine(ix)
    assert [h.id for h in engine.search("普京").hits] == ["page"]
    assert engine.search("SCRIPTWORD").total == 0
    assert engine.search("STYLEWORD").total == 0


def test_deeply_nested_html_does_not_crash(tmp_path):
    path = tmp_path / "deep.html"
    path.write_text("<html><body>" + "<div>" * 5000 + "<p>普京表示，合作很重要，雙方關係良好。</p>" + "</div>" * 5000 + "</body></html>", "utf-8")
    loaded = load_file(str(path))
    assert loaded.errors == [] or "deep.html" in loaded.errors[0].message
