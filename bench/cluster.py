"""Failover under load: three OpenSearch nodes on loopback, the elected cluster manager
SIGKILLed once during bulk indexing and once during searches.

1. Three nodes (``--heap`` MB each) form a cluster; an index with 2 shards and 1 replica
   (``index.unassigned.node_left.delayed_timeout`` lowered so a lost replica is rebuilt at once).
2. Bulk indexing of ``--articles`` generated bilingual articles; when a third is sent, the elected
   cluster manager is killed. Items that fail are indexed again (as re-running the incremental
   indexer would); then the count and every stored article's content hash must equal the input.
3. The killed node restarts and rejoins (3 nodes, green).
4. ``--clients`` threads search: ``--calm`` seconds, then the (new) cluster manager is killed,
   restarted 3 s later and rejoins, then ``--calm`` seconds more. Errors, answers that miss a
   shard, wrong totals and latency p50/p99 are reported per phase (before; failure = from the
   kill until the node has rejoined and the cluster is green; after).

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
QUERIES = [("zh", "经济"), ("zh", "合作"), ("zh", "科技"), ("en", "trade"), ("en", "bank"), ("en", "harvest"),
           ("zh", "能源 安全"), ("en", "oil prices"), ("en", "peace"), ("zh", "乡村")]


def articles(n: int, seed: int = 14) -> list[dict]:
    """``n`` bilingual articles of 40-120 words per language, reproducible from ``seed``."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        zh = "".join(rng.choice(ZH_WORDS) for _ in range(rng.randint(40, 120)))
        en = " ".join(rng.choice(EN_WORDS) for _ in range(rng.randint(40, 120)))
        docs.append({"id": f"c{i:06d}", "title": {"zh": zh[:12], "en": " ".join(en.split()[:6])}, "body": {"zh": zh, "en": en}})
    return docs


def content_hash(doc: dict) -> str:
    return hashlib.sha256(json.dumps([doc["title"], doc["body"]], ensure_ascii=False, sort_keys=True).encode()).hexdigest()


class DirectStore:
    """The index as the test sees it, through opensearch-py."""

    def __init__(self, urls: list[str]) -> None:
        from opensearchpy import OpenSearch

        # Several hosts: a request to a dead node is retried on another one.
        self.client = OpenSearch(urls, timeout=30, max_retries=3, retry_on_timeout=True)

    def create(self, shards: int, replicas: int) -> None:
        self.client.indices.delete(index=INDEX, ignore_unavailable=True)
        self.client.indices.create(index=INDEX, body={
            "settings": {"number_of_shards": shards, "number_of_replicas": replicas,
                         "index.unassigned.node_left.delayed_timeout": "2s"},
            "mappings": {"properties": {
                "zh": {"type": "text", "analyzer": "whitespace"}, "en": {"type": "text", "analyzer": "whitespace"},
                "hash": {"type": "keyword"}, "title": {"type": "object", "enabled": False}, "body": {"type": "object", "enabled": False}}},
        })

    def add(self, docs: list[dict], progress: list[int]) -> list[str]:
        """Bulk-index ``docs``; the ids of the items that failed (never silently dropped)."""
        from opensearchpy import helpers
        from opensearchpy.exceptions import ConnectionError as OSConnectionError, TransportError

        failed: list[str] = []
        chunk = 200
        for start in range(0, len(docs), chunk):
            batch = docs[start:start + chunk]
            actions = [{"_index": INDEX, "_id": d["id"], "_source": {
                "zh": " ".join(d["body"]["zh"][i:i + 2] for i in range(0, len(d["body"]["zh"]), 2)),
                "en": d["body"]["en"], "hash": content_hash(d), "title": d["title"], "body": d["body"]}} for d in batch]
            try:
                for ok, item in helpers.streaming_bulk(self.client, actions, raise_on_error=False, raise_on_exception=False,
                                                       max_retries=3, initial_backoff=0.5):
                    if not ok:
                        failed.append(next(iter(item.values()))["_id"])
            except (OSConnectionError, TransportError):
                failed.extend(d["id"] for d in batch)
            progress[0] += len(batch)
        return failed

    def refresh(self) -> None:
        self.client.indices.refresh(index=INDEX)

    def count(self) -> int:
        return self.client.count(index=INDEX)["count"]

    def hashes(self) -> dict[str, str]:
        """Every stored article's id -> hash of the content it holds (recomputed from _source)."""
        from opensearchpy import helpers

        return {hit["_id"]: content_hash(hit["_source"]) for hit in
                helpers.scan(self.client, index=INDEX, query={"query": {"match_all": {}}}, _source=["title", "body"])}

    def search(self, lang: str, text: str) -> tuple[int, bool]:
        """(total, partial): partial when a shard did not answer."""
        result = self.client.search(index=INDEX, body={"query": {"match": {lang: {"query": text, "operator": "and"}}},
                                                       "size": 10, "track_total_hits": True})
        return result["hits"]["total"]["value"], result["_shards"]["failed"] > 0 or result["_shards"]["successful"] < result["_shards"]["total"]


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


def index_with_failover(cluster: LocalCluster, store: DirectStore, docs: list[dict]) -> dict:
    progress = [0]
    failed: list[str] = []
    worker = threading.Thread(target=lambda: failed.extend(store.add(docs, progress)), name="bulk")
    started = time.monotonic()
    worker.start()
    while progress[0] < len(docs) // 3 and worker.is_alive():
        time.sleep(0.02)
    sent_at_kill = progress[0]
    victim, election_s = kill_manager(cluster)
    worker.join()
    first_pass_s = time.monotonic() - started
    rounds, retried = 0, len(failed)
    while failed and rounds < 5:  # resume: what failed is sent again, as a re-run of the indexer would
        rounds += 1
        by_id = {d["id"]: d for d in docs}
        failed = store.add([by_id[i] for i in failed], [0])
    store.refresh()
    expected = {d["id"]: content_hash(d) for d in docs}
    stored = store.hashes()
    report = {
        "articles": len(docs), "sent_when_killed": sent_at_kill, "killed": victim.name, "new_manager_s": election_s,
        "first_pass_s": round(first_pass_s, 2), "docs_per_s": round(len(docs) / first_pass_s, 1),
        "failed_first_pass": retried, "resume_rounds": rounds, "still_failed": len(failed),
        "count": store.count(), "missing": len(expected.keys() - stored.keys()), "unexpected": len(stored.keys() - expected.keys()),
        "hash_mismatches": sum(1 for key, value in stored.items() if expected.get(key, value) != value),
    }
    report["rejoin_s"] = rejoin(cluster, victim)
    return report


def search_with_failover(cluster: LocalCluster, urls: list[str], clients: int, calm_s: float, rate: float = 3.0) -> dict:
    """Searches from ``clients`` threads at ``rate`` searches/s each (a steady load that leaves the
    restarting node CPU to start on): ``calm_s`` seconds, the kill, 3 s, the restart until green, ``calm_s`` more."""
    probe = DirectStore(urls)
    truth = {q: probe.search(*q)[0] for q in QUERIES}
    samples: list[tuple[float, float, str]] = []  # (start, latency, outcome)
    lock, stop = threading.Lock(), threading.Event()

    def client(seed: int) -> None:
        store, rng = DirectStore(urls), random.Random(seed)
        while not stop.is_set():
            query = rng.choice(QUERIES)
            began = time.monotonic()
            try:
                total, partial = store.search(*query)
                outcome = "partial" if partial else ("ok" if total == truth[query] else "wrong_total")
            except Exception as exc:  # an error is a measured outcome here, not a crash of the harness
                outcome = f"error: {type(exc).__name__}"
            took = time.monotonic() - began
            with lock:
                samples.append((began, took, outcome))
            stop.wait(max(0.0, 1 / rate - took))

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
                "partial": outcomes.get("partial", 0), "wrong_total": outcomes.get("wrong_total", 0)}

    return {"clients": clients, "killed": victim.name, "new_manager_s": election_s, "rejoin_s": rejoin_s,
            "before": phase(started, killed), "failure": phase(killed, recovered), "after": phase(recovered, ended)}


def run(base_dir: str | Path, *, articles_n: int = 6000, clients: int = 4, calm_s: float = 5, heap_mb: int = 384) -> dict:
    """The whole scenario on a fresh three-node cluster under ``base_dir``; the report."""
    docs = articles(articles_n)
    cluster = LocalCluster(base_dir, size=3, heap_mb=heap_mb, name="search-failover", quick_start=True)
    started = time.monotonic()
    with cluster:
        start_s = round(time.monotonic() - started, 1)
        store = DirectStore(cluster.urls)
        store.create(shards=2, replicas=1)
        cluster.wait_health("green", nodes=3)
        indexing = index_with_failover(cluster, store, docs)
        searching = search_with_failover(cluster, cluster.urls, clients, calm_s)
        rss = round(cluster.rss_bytes() / 2**20)
    return {"nodes": 3, "heap_mb": heap_mb, "shards": 2, "replicas": 1, "cluster_start_s": start_s, "nodes_rss_mb": rss,
            "indexing": indexing, "searching": searching, "wall_s": round(time.monotonic() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=6000)
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
