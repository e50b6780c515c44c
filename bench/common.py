"""Shared helpers for the benchmarks: corpus records, machine description, process
measurement (time, peak memory), latency statistics, result files.

Nothing here imports the engine or a baseline, so every worker process starts clean.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterator

from bench.datasets import CORPORA

RESULTS = Path(__file__).with_name("results")
ROOT = Path(__file__).resolve().parent.parent

#: The two news corpora indexed by the speed benchmarks (JSON Lines, the project's input format).
NEWS_FILES = ("jsonl/xwlb.jsonl", "jsonl/reuters21578.jsonl")


def news_paths(corpora: Path = CORPORA) -> list[Path]:
    paths = [corpora / name for name in NEWS_FILES]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(f"corpus files missing: {', '.join(missing)} (set SEARCH_CORPORA or put ../shared/corpora beside the project)")
    return paths


@dataclass(frozen=True)
class Record:
    """One article as the baselines see it: an id and one text (title + body)."""

    id: str
    title: str
    text: str


def _flat(value: object) -> str:
    if isinstance(value, dict):
        return "\n".join(v for v in (value.get("zh"), value.get("en")) if isinstance(v, str) and v)
    return value if isinstance(value, str) else ""


def iter_records(paths: list[Path], limit: int | None = None) -> Iterator[Record]:
    """Records of every JSONL file, at most ``limit`` per file.

    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "a.jsonl"
    >>> _ = f.write_text('{"id": "x", "title": "T", "body": "B"}\\n', "utf-8")
    >>> list(iter_records([f]))
    [Record(id='x', title='T', text='T\\nB')]
    """
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for n, line in enumerate(handle):
                if limit is not None and n >= limit:
                    break
                if not line.strip():
                    continue
                record = json.loads(line)
                title = _flat(record.get("title"))
                body = _flat(record.get("body"))
                yield Record(str(record["id"]), title, f"{title}\n{body}" if title else body)


def limited_copies(paths: list[Path], limit: int | None, folder: Path) -> tuple[list[Path], int]:
    """``paths`` themselves (no limit), or copies of their first ``limit`` lines in ``folder``.

    Returns the paths and their total size in bytes (the input volume for MB/s).
    """
    if limit is None:
        return paths, sum(p.stat().st_size for p in paths)
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    total = 0
    for path in paths:
        target = folder / path.name
        with open(path, "rb") as src, open(target, "wb") as dst:
            for n, line in enumerate(src):
                if n >= limit:
                    break
                dst.write(line)
        out.append(target)
        total += target.stat().st_size
    return out, total


def dir_size(path: str | Path) -> int:
    """Bytes of all files under ``path`` (or of the file itself)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def machine() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, object] = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }
    try:
        import psutil

        info["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
        info["load_avg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    except (ImportError, OSError):
        pass
    info.update(speed_probe())
    return info


def speed_probe() -> dict[str, float]:
    """How fast this machine runs Python now: the CPU milliseconds of a fixed pure-Python
    workload (best of 5), and the share of CPU time the hypervisor gave to others meanwhile
    (``steal``, from ``/proc/stat``). Two runs of a benchmark on machines that look the same
    ("2 cores, AMD EPYC") compare through it: on 2026-11-29 the same code's searches took about
    2.3 times as much CPU on one such machine as on the next one, a few hours later."""

    def cpu_times() -> list[int] | None:
        try:
            return [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError):
            return None

    before, best = cpu_times(), float("inf")
    for _ in range(5):
        started = time.process_time()
        table = {}
        for i in range(200_000):
            table[str(i)] = i * i
        sum(len(key) for key in table)
        best = min(best, time.process_time() - started)
    after = cpu_times()
    found = {"python_probe_ms": round(best * 1000, 1)}
    if before and after and len(before) > 7:
        spent = sum(after) - sum(before)
        found["steal_share"] = round((after[7] - before[7]) / spent, 3) if spent > 0 else 0.0
    return found


def versions(*names: str) -> dict[str, str]:
    from importlib import metadata

    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def header(command: str) -> dict[str, object]:
    return {"command": command, "date": date.today().isoformat(), "machine": machine()}


def write_result(name: str, limit: int | None, report: dict) -> Path:
    """``bench/results/NAME.json``; runs with ``--limit`` go to ``NAME-limit.json``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / (f"{name}-limit.json" if limit else f"{name}.json")
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return path


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50), percentile([1.0, 2.0, 3.0, 4.0], 99)
    (2.0, 4.0)
    """
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def latency_summary(latencies_s: list[float], wall_s: float | None = None) -> dict[str, float]:
    """p50/p95/p99/mean/max in ms, and throughput (queries/s over ``wall_s``, else the sum)."""
    values = sorted(latencies_s)
    total = wall_s if wall_s is not None else sum(values)
    ms = lambda v: round(v * 1000, 2)  # noqa: E731
    return {
        "queries": len(values),
        "p50_ms": ms(percentile(values, 50)),
        "p95_ms": ms(percentile(values, 95)),
        "p99_ms": ms(percentile(values, 99)),
        "mean_ms": ms(sum(values) / len(values)) if values else float("nan"),
        "max_ms": ms(values[-1]) if values else float("nan"),
        "qps": round(len(values) / total, 1) if total > 0 else float("nan"),
    }


def run_measured(args: list[str], result_file: Path, *, timeout: float, sample_every: float = 0.1, pss_growth: float = 0.05, pss_every: float = 10.0) -> dict:
    """Run ``python -m ARGS`` in its own process; return its JSON result plus memory figures.

    While it runs, the process and its children (Whoosh's indexing workers) are
    sampled: ``peak_tree_rss_mb`` sums their RSS (every ``sample_every`` seconds),
    ``peak_tree_pss_mb`` their PSS (shared pages counted once), read when the summed RSS
    passes the highest it had at a PSS reading by ``pss_growth`` (5 %), and at least every
    ``pss_every`` seconds. ``pss_reads`` says how many readings were taken. The worker adds
    its own ``ru_maxrss``. Bounded by ``timeout`` seconds, after which the process group is
    killed.
    """
    import psutil

    result_file.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = psutil.Popen([sys.executable, "-m", *args], cwd=ROOT, env=env, start_new_session=True)
    peak_rss = peak_pss = 0
    pss_at_rss = 0  # the highest summed RSS at which PSS was read
    reads = 0
    started = time.monotonic()
    next_pss = started
    try:
        while proc.poll() is None:
            now = time.monotonic()
            if now - started > timeout:
                raise TimeoutError(f"{' '.join(args)} ran over {timeout:.0f} s")
            try:
                members = [proc, *proc.children(recursive=True)]
            except psutil.NoSuchProcess:
                members = []
            rss = 0
            for member in members:
                try:
                    rss += member.memory_info().rss
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
            peak_rss = max(peak_rss, rss)
            # PSS walks every page of every process (smaps_rollup: ~40 ms for 1 GB, under the
            # processes' memory lock): read once a second, it took 14 % of the project's
            # indexing time on the 2-core machine (63.4 s without, 72.6 s with, full corpus),
            # more than from a one-process baseline. RSS (statm) costs next to nothing, and PSS
            # can only reach a new high when RSS grows: so it is read when RSS did.
            if rss > pss_at_rss * (1 + pss_growth) or now >= next_pss:
                pss = 0
                for member in members:
                    try:
                        mem = member.memory_full_info()
                    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                        continue
                    pss += getattr(mem, "pss", mem.rss)
                reads += 1
                next_pss = time.monotonic() + pss_every
                peak_pss = max(peak_pss, pss)
                pss_at_rss = max(pss_at_rss, rss)
            time.sleep(sample_every)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"`python -m {' '.join(args)}` exited with status {proc.returncode}")
    result = json.loads(result_file.read_text("utf-8"))
    result["peak_tree_rss_mb"] = round(peak_rss / 2**20, 1)
    result["peak_tree_pss_mb"] = round(peak_pss / 2**20, 1)
    result["pss_reads"] = reads
    result["process_wall_s"] = round(time.monotonic() - started, 2)
    return result


def own_peak_rss_mb() -> float:
    """Largest RSS of this process or any waited-for child, in MB (Linux ru_maxrss is KiB)."""
    import resource

    kib = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return round(kib / 1024, 1)
