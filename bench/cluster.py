"""Failover under load: three OpenSearch nodes on loopback, the elected cluster manager
SIGKILLed once during bulk indexing and once during searches, all through the engine's
OpenSearch backend (``search.indexer.Indexer``, ``search.searcher.Engine``).

1. Three nodes (``--heap`` MB each) form a cluster; an index with 2 shards and 1 replica
   (``index.unassigned.node_left.delayed_timeout`` lowered so a lost replica is rebuilt at once).
2. The indexer runs over ``--articles`` generated bilingual articles (JSON Lines); when a third
   of them are searchable, the elected cluster manager is killed. If the run reports failed
   articles or stops, it is run again (incremental: what is stored is skipped); then the count,
   every stored digest and the hash of every stored original text must equal the input's.
3. The killed node restarts and rejoins (3 nodes, green).
4. ``--clients`` threads search (3 searches/s each): ``--calm`` seconds, then the (new) cluster
   manager is killed, restarted 3 s later and rejoins, then ``--calm`` seconds more. Errors,
   wrong totals and latency p50/p99 are reported per phase (before; failure = from the kill
   until the node has rejoined and the cluster is green; after).

    .venv/bin/python -m bench.cluster              # -> bench/results/cluster.json

``run()`` is also the body of tests/test_cluster.py, which asserts on its report.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import header, latency_summary, write_result
from search.backends.opensearch.localnode import LocalCluster, LocalNode

INDEX = "cluster-test"
ZH_WORDS = "经济 发展 合作 会议 主席 总统 国家 人民 改革 开放 创新 科技 农业 贸易 银行 市场 能源 环境 教育 文化 安全 和平 城市 乡村 投资".split()
EN_WORDS = ("economy growth trade talks president minister bank market energy climate farm harvest oil prices "
            "cooperation reform technology security peace city village investment shares rates exports").split()
#: User queries as the API receives them: words in either language, a phrase, an exclusion.
QUERIES = ["经济", "合作", "科技", "trade", "bank", "harvest", "能源 安全", "oil prices", '"oil prices"', "peace NOT climate", "乡村", "市场 OR 银行"]


def articles(n: int, seed: int = 14) -> list[dict]:
    """``n`` bilingual articles (JSON Lines records) of 40-120 words per language, reproducible from ``seed``."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        zh = "，".join("".join(rng.choice(ZH_WORDS) for _ in range(8)) for _ in range(rng.randint(5, 15)))
        en = " ".join(rng.choice(EN_WORDS) for _ in range(rng.randint(40, 120)))
        docs.append({"id": f"c{i:06d}", "title": {"zh": zh[:12], "en": " ".join(en.split()[:6])}, "body": {"zh": zh, "en": en},
                     "date": f"20{10 + i % 15}-0{1 + i % 9}-1{i % 10}T08:00:00+08:00"})
    return docs


def content_hash(title: dict, body: dict) -> str:
    """Hash of an article's text as given (input) or as stored (the original text the node keeps)."""
    texts = [title.get("zh"), title.get("en"), body.get("zh"), body.get("en")]
    return hashlib.sha256(json.dumps(texts, ensure_ascii=False).encode()).hexdigest()


class ClusterIndex:
    """The index on the cluster, written and searched through the engine's OpenSearch backend."""

    def __init__(self, urls: list[str], shards: int = 2, replicas: int = 1) -> None:
        from search.backends.base import BackendConfig

        self.config = BackendConfig(backend="opensearch", urls=tuple(urls), index_name=INDEX, shards=shards, replicas=replicas)

    def create(self) -> None:
        from search.backends.base import open_backend

        backend = open_backend(self.config, create=True)
        # A lost replica is rebuilt elsewhere after this delay (default 1 min: longer than the test).
        backend.client.indices.put_settings(index=INDEX, body={"index.unassigned.node_left.delayed_timeout": "2s"})
        backend.close()

    def add(self, path: Path):
        """One run of the incremental indexer over ``path``: its report (raises if the cluster is unreachable)."""
        from search.indexer import Indexer

        return Indexer(config=self.config, procs=1, batch_size=200).run([str(path)])

    def stored(self) -> dict[str, tuple[str, str]]:
        """Every stored article's id -> (digest stored with it, hash of the original text it holds)."""
        from opensearchpy import helpers

        from search.backends.base import open_backend

        backend = open_backend(self.config)
        try:
            backend.client.indices.refresh(index=INDEX)
            out = {}
            for hit in helpers.scan(backend.client, index=INDEX, query={"query": {"match_all": {}}}, _source=["digest", "doc"]):
                doc = hit["_source"]["doc"]
                title = {lang: doc.get(f"title_{lang}") for lang in ("zh", "en")}
                body = {lang: doc.get(f"body_{lang}") for lang in ("zh", "en")}
                out[hit["_id"]] = (hit["_source"]["digest"], content_hash(title, body))
            return out
        finally:
            backend.close()

    def count(self) -> int:
        """Articles visible to searches right now (0 while the index cannot be read)."""
        from search.backends.base import open_backend

        try:
            backend = open_backend(self.config)
        except Exception:  # the cluster between managers: not yet
            return 0
        try:
            return backend.count()
        finally:
            backend.close()

    def engine(self):
        from search.searcher import Engine

        return Engine(config=self.config)


def expected_digests(path: Path) -> dict[str, str]:
    """Id -> the digest the indexer stores for each article of ``path``."""
    from search.indexer import content_hash, input_hash
    from search.ingest.loader import load_parts, with_speakers

    # The content hash (speakers found) then the input hash (as read), as the indexer stores them.
    return {
        article.id: content_hash(with_speakers(article)) + input_hash(article)
        for part in load_parts(str(path), speakers=False)
        for _, article in part.articles
    }


def kill_manager(cluster: LocalCluster) -> tuple[LocalNode, float]:
    """SIGKILL the elected cluster manager; return it and the seconds until another one is elected."""
    victim = cluster.cluster_manager()
    victim.kill()
    killed = time.monotonic()
    while True:
        try:
            if cluster.cluster_manager() is not victim:
                return victim, round(time.monotonic() - killed, 2)
        except Exception:  # no manager yet (survivors answer 503) is what we wait out
            pass
        if time.monotonic() - killed > 60:
            raise RuntimeError("no new cluster manager elected within 60 s")
        time.sleep(0.1)


def rejoin(cluster: LocalCluster, node: LocalNode) -> float:
    """Restart ``node`` and wait until the cluster has all its nodes again and is green; seconds taken."""
    started = time.monotonic()
    node.restart()
    cluster.wait_health("green", nodes=len(cluster.nodes), timeout=120)
    return round(time.monotonic() - started, 2)


def index_with_failover(cluster: LocalCluster, index: ClusterIndex, path: Path, docs: list[dict]) -> dict:
    """Index ``path`` while the cluster manager is killed a third of the way in; re-run what failed."""
    outcome: dict = {}

    def first_run() -> None:
        try:
            outcome["report"] = index.add(path)
        except Exception as exc:  # the run may stop on a lost node: then it is resumed below
            outcome["error"] = f"{type(exc).__name__}: {exc}"

    worker = threading.Thread(target=first_run, name="indexer")
    started = time.monotonic()
    worker.start()
    while worker.is_alive() and index.count() < len(docs) // 3:
        time.sleep(0.2)
    count_at_kill = index.count()
    victim, election_s = kill_manager(cluster)
    worker.join()
    first_s = time.monotonic() - started
    report = outcome.get("report")
    first_failed = report.failed if report else None
    rounds = 0
    while (report is None or report.failed) and rounds < 5:  # resume: the same command again (incremental)
        rounds += 1
        try:
            report = index.add(path)
        except Exception as exc:
            outcome["resume_error"] = f"{type(exc).__name__}: {exc}"
            report = None
            time.sleep(2)
    expected = expected_digests(path)
    text_hashes = {d["id"]: content_hash(d["title"], d["body"]) for d in docs}
    stored = index.stored()
    result = {
        "articles": len(docs), "count_when_killed": count_at_kill, "killed": victim.name, "new_manager_s": election_s,
        "first_run_s": round(first_s, 2), "first_run_error": outcome.get("error"), "first_run_failed": first_failed,
        "first_run_failures": report.failures[:3] if report and report.failures else [],
        "resume_runs": rounds, "resume_report": report.summary() if report and rounds else None, "still_failed": report.failed if report else None,
        "count": index.count(), "missing": len(expected.keys() - stored.keys()), "unexpected": len(stored.keys() - expected.keys()),
        "digest_mismatches": sum(1 for key, (digest, _) in stored.items() if expected.get(key, digest) != digest),
        "text_mismatches": sum(1 for key, (_, text) in stored.items() if text_hashes.get(key, text) != text),
    }
    result["rejoin_s"] = rejoin(cluster, victim)
    return result


def search_with_failover(cluster: LocalCluster, index: ClusterIndex, clients: int, calm_s: float, rate: float = 3.0) -> dict:
    """Searches from ``clients`` threads at ``rate`` searches/s each (a steady load that leaves the
    restarting node CPU to start on): ``calm_s`` seconds, the kill, 3 s, the restart until green, ``calm_s`` more."""
    probe = index.engine()
    truth = {q: probe.search(q, size=10).total for q in QUERIES}
    probe.close()
    samples: list[tuple[float, float, str]] = []  # (start, latency, outcome)
    lock, stop = threading.Lock(), threading.Event()

    def client(seed: int) -> None:
        engine, rng = index.engine(), random.Random(seed)
        while not stop.is_set():
            query = rng.choice(QUERIES)
            began = time.monotonic()
            try:
                total = engine.search(query, size=10).total
                outcome = "ok" if total == truth[query] else "wrong_total"
            except Exception as exc:  # an error is a measured outcome here, not a crash of the harness
                outcome = f"error: {type(exc).__name__}: {str(exc)[:300]}"
            took = time.monotonic() - began
            with lock:
                samples.append((began, took, outcome))
            stop.wait(max(0.0, 1 / rate - took))
        engine.close()

    threads = [threading.Thread(target=client, args=(i,), name=f"search-{i}") for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(calm_s)
    victim, election_s = kill_manager(cluster)
    killed = time.monotonic() - election_s
    time.sleep(3)
    rejoin_s = rejoin(cluster, victim)
    recovered = time.monotonic()
    time.sleep(calm_s)
    stop.set()
    for thread in threads:
        thread.join()
    ended = time.monotonic()

    def phase(lo: float, hi: float) -> dict:
        chosen = [s for s in samples if lo <= s[0] < hi]
        outcomes: dict[str, int] = {}
        for _, _, outcome in chosen:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        summary = latency_summary([s[1] for s in chosen], wall_s=hi - lo)
        return {"seconds": round(hi - lo, 1), **summary, "outcomes": outcomes,
                "errors": sum(v for k, v in outcomes.items() if k.startswith("error")),
                "wrong_total": outcomes.get("wrong_total", 0)}

    return {"clients": clients, "killed": victim.name, "new_manager_s": election_s, "rejoin_s": rejoin_s,
            "before": phase(started, killed), "failure": phase(killed, recovered), "after": phase(recovered, ended)}


def run(base_dir: str | Path, *, articles_n: int = 6000, clients: int = 4, calm_s: float = 5, heap_mb: int = 384) -> dict:
    """The whole scenario on a fresh three-node cluster under ``base_dir``; the report."""
    base_dir = Path(base_dir)
    docs = articles(articles_n)
    path = base_dir / "articles.jsonl"
    base_dir.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), "utf-8")
    cluster = LocalCluster(base_dir / "nodes", size=3, heap_mb=heap_mb, name="search-failover", quick_start=True)
    started = time.monotonic()
    with cluster:
        start_s = round(time.monotonic() - started, 1)
        index = ClusterIndex(cluster.urls, shards=2, replicas=1)
        index.create()
        cluster.wait_health("green", nodes=3)
        indexing = index_with_failover(cluster, index, path, docs)
        searching = search_with_failover(cluster, index, clients, calm_s)
        rss = round(cluster.rss_bytes() / 2**20)
    return {"nodes": 3, "heap_mb": heap_mb, "shards": 2, "replicas": 1, "cluster_start_s": start_s, "nodes_rss_mb": rss,
            "indexing": indexing, "searching": searching, "wall_s": round(time.monotonic() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--calm", type=float, default=5, help="seconds of searches before the kill and after the rejoin")
    parser.add_argument("--heap", type=int, default=384, help="MB per node")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="search-cluster-") as tmp:
        report = run(tmp, articles_n=args.articles, clients=args.clients, calm_s=args.calm, heap_mb=args.heap)
    path = write_result("cluster", None, {**header("python -m bench.cluster " + " ".join(argv or sys.argv[1:])), **report})
    print(json.dumps(report, indent=2))
    print(f"written {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
