"""Real OpenSearch nodes on loopback, built by the project from Maven Central jars.

Used by the tests (one node, or a three-node cluster), the benchmarks and ``make opensearch``
(one node on 127.0.0.1:9200 in the foreground). ``java/`` holds a Maven project with the
OpenSearch 2.19.6 jars and a small launcher (``search.node.LocalNode``) that starts a node in
its JVM; :func:`build` packages it once (``mvn -B -q package``, offline when the jars are
already in the local Maven repository) into ``java/target/`` (git-ignored).

    python -m search.backends.opensearch.localnode [--port 9200] [--data .opensearch] [--heap 512]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path

from search.processes import die_with_parent

JAVA_DIR = Path(__file__).resolve().parent / "java"
TARGET = JAVA_DIR / "target"
LAUNCHER = "search.node.LocalNode"
OPENSEARCH_VERSION = "2.19.6"
DEFAULT_HEAP_MB = 512
START_TIMEOUT = 120.0
#: Ports other tools on a shared machine are known to use; never picked at random.
RESERVED_PORTS = frozenset({9200, 9300, 9250, 9350})
#: Settings of every local node. Disk watermarks are off: a nearly full laptop disk must not
#: leave a trial node's shards unassigned.
BASE_SETTINGS = {"cluster.routing.allocation.disk.threshold_enabled": "false"}


class NodeError(RuntimeError):
    """A local node could not be built, started or reached; the message says why."""


def missing_tools() -> str | None:
    """Why no local node can run here (no Java 17+ or no Maven), or None when it can."""
    java, mvn = shutil.which("java"), shutil.which("mvn")
    if java is None or mvn is None:
        absent = " and ".join(name for name, path in (("java", java), ("mvn", mvn)) if path is None)
        return f"{absent} not found on PATH (a local OpenSearch node needs Java 17+ and Maven)"
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"java -version failed: {exc}"
    # 'openjdk version "17.0.15" ...' or 'java version "1.8.0_392"'
    quoted = out.split('"')[1] if out.count('"') >= 2 else ""
    major = quoted.split(".")[1] if quoted.startswith("1.") else quoted.split(".")[0]
    if not major.isdigit() or int(major) < 17:
        return f"Java 17+ needed for OpenSearch {OPENSEARCH_VERSION}, found: {out.splitlines()[0] if out else 'nothing'}"
    return None


def _built() -> bool:
    classes = TARGET / "classes" / Path(*LAUNCHER.split(".")).with_suffix(".class")
    lib = TARGET / "lib"
    if not classes.exists() or not lib.is_dir() or not any(lib.glob("opensearch-*.jar")):
        return False
    sources = [JAVA_DIR / "pom.xml", *JAVA_DIR.glob("src/**/*.java")]
    return classes.stat().st_mtime >= max(path.stat().st_mtime for path in sources)


def build(*, log=sys.stderr) -> str:
    """Package the launcher and its jars (once; later calls return at once) and return the classpath.

    Offline (``mvn -o``) first; online (Maven Central) only when the local repository lacks a jar.
    Concurrent callers (test processes, benchmarks) wait for one build under a file lock.
    """
    reason = missing_tools()
    if reason:
        raise NodeError(reason)
    classpath = f"{TARGET / 'classes'}{os.pathsep}{TARGET / 'lib' / '*'}"
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    with open(JAVA_DIR / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _built():
            return classpath
        print(f"building the OpenSearch {OPENSEARCH_VERSION} node (mvn package, first time only) ...", file=log, flush=True)
        started = time.monotonic()
        for offline in (["-o"], []):
            done = subprocess.run(["mvn", "-B", "-q", *offline, "package"], cwd=JAVA_DIR, capture_output=True, text=True)
            if done.returncode == 0 and _built():
                print(f"built in {time.monotonic() - started:.0f} s", file=log, flush=True)
                return classpath
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise NodeError(f"mvn package failed in {JAVA_DIR} (Maven Central reachable?):\n{tail}")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (never one of RESERVED_PORTS)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def get_json(url: str, timeout: float = 5.0) -> dict | list:
    """GET a JSON document (urllib: this module must work without opensearch-py)."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


def rss_bytes(pid: int | None) -> int:
    """Resident memory of process ``pid`` (Linux ``/proc``; 0 if unknown or gone)."""
    if pid is None:
        return 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class LocalNode:
    """One OpenSearch node: a JVM on loopback with its own home (config, data, log) folder.

    Start it from the main thread: the JVM is then killed by the kernel if this process dies,
    so no node outlives a crashed test run (Linux ``PR_SET_PDEATHSIG`` follows the starting thread).
    """

    def __init__(self, name: str, home: str | os.PathLike, *, http_port: int | None = None, transport_port: int | None = None,
                 heap_mb: int = DEFAULT_HEAP_MB, settings: dict[str, str] | None = None, quick_start: bool = False) -> None:
        self.name = name
        self.home = Path(home).resolve()
        self.http_port = http_port or free_port()
        self.transport_port = transport_port or free_port()
        self.heap_mb = heap_mb
        self.settings = {**BASE_SETTINGS, **(settings or {})}
        # C1 only: the node is up in ~4 s instead of ~6 s, but runs slower; for short-lived test nodes.
        self.quick_start = quick_start
        self.process: subprocess.Popen | None = None
        self.log_path = self.home / "node.log"

    def __repr__(self) -> str:
        state = f"pid {self.process.pid}" if self.alive else "stopped"
        return f"LocalNode({self.name!r}, {self.url}, {state})"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def transport_address(self) -> str:
        return f"127.0.0.1:{self.transport_port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def command(self, classpath: str) -> list[str]:
        settings = {
            "path.home": str(self.home), "node.name": self.name, "http.port": str(self.http_port),
            "transport.port": str(self.transport_port), **self.settings,
        }
        jvm = [f"-Xms{self.heap_mb}m", f"-Xmx{self.heap_mb}m", "-XX:-UsePerfData", f"-Djava.io.tmpdir={self.home / 'tmp'}"]
        if self.quick_start:
            jvm.append("-XX:TieredStopAtLevel=1")
        return ["java", *jvm, "-cp", classpath, LAUNCHER, *(f"{key}={value}" for key, value in settings.items())]

    def start(self, classpath: str | None = None) -> LocalNode:
        """Launch the JVM (returns at once; see :meth:`wait_up`)."""
        if self.alive:
            raise NodeError(f"node {self.name} is already running (pid {self.pid})")
        classpath = classpath or build()
        for port in (self.http_port, self.transport_port):
            if port_in_use(port):
                raise NodeError(f"port {port} on 127.0.0.1 is already in use (node {self.name}); stop what listens there or pick another port")
        (self.home / "tmp").mkdir(parents=True, exist_ok=True)
        parent = os.getpid()
        guard = threading.current_thread() is threading.main_thread()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(classpath), cwd=self.home, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=(lambda: die_with_parent(parent)) if guard else None)
        return self

    def log_tail(self, lines: int = 12) -> str:
        try:
            text = self.log_path.read_text("utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.strip().splitlines()[-lines:])

    def responding(self) -> bool:
        try:
            get_json(self.url, timeout=2.0)
            return True
        except (OSError, ValueError):
            return False

    def wait_up(self, timeout: float = START_TIMEOUT) -> LocalNode:
        """Wait until the node answers HTTP; NodeError (with its log's tail) if it exits or times out."""
        deadline = time.monotonic() + timeout
        while not self.responding():
            if not self.alive:
                raise NodeError(f"OpenSearch node {self.name} exited with status {self.process and self.process.returncode} "
                                f"while starting; {self.log_path}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise NodeError(f"OpenSearch node {self.name} did not answer on {self.url} within {timeout:.0f} s; "
                                f"{self.log_path}:\n{self.log_tail()}")
            time.sleep(0.25)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (the node closes cleanly), SIGKILL if it is still there after ``timeout`` s."""
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL: the node dies as on a power cut (no flush, no goodbye to the cluster)."""
        if self.alive:
            self.process.kill()
            self.process.wait()

    def restart(self, classpath: str | None = None, timeout: float = START_TIMEOUT) -> LocalNode:
        """Stop the node if it runs, start it again on the same ports and data, wait until it answers."""
        self.stop()
        return self.start(classpath).wait_up(timeout)

    def rss_bytes(self) -> int:
        """Resident memory of the JVM (0 when it is not running)."""
        return rss_bytes(self.pid) if self.alive else 0


class LocalCluster:
    """``size`` nodes on loopback forming one cluster (one node: ``discovery.type=single-node``).

    Every node is cluster-manager-eligible and holds data; a cluster that should survive the loss
    of its elected cluster manager needs three (with two, the survivor cannot elect itself).

        with LocalCluster("/tmp/os", size=3, heap_mb=384) as cluster:
            client = OpenSearch(cluster.urls)
    """

    def __init__(self, base_dir: str | os.PathLike, *, size: int = 1, heap_mb: int = DEFAULT_HEAP_MB, name: str = "search-local",
                 settings: dict[str, str] | None = None, http_ports: Sequence[int] | None = None, quick_start: bool = False) -> None:
        if size < 1:
            raise ValueError("a cluster needs at least one node")
        base = Path(base_dir)
        names = [f"node-{i + 1}" for i in range(size)]
        transports = [free_port() for _ in names]
        common = {"cluster.name": name, **(settings or {})}
        if size > 1:
            common["discovery.seed_hosts"] = ",".join(f"127.0.0.1:{port}" for port in transports)
            common["cluster.initial_cluster_manager_nodes"] = ",".join(names)
        self.name = name
        self.nodes = [
            LocalNode(node_name, base / node_name, http_port=http_ports[i] if http_ports else None, transport_port=transports[i],
                      heap_mb=heap_mb, settings=common, quick_start=quick_start)
            for i, node_name in enumerate(names)
        ]

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def running(self) -> list[LocalNode]:
        return [node for node in self.nodes if node.alive]

    def start(self, timeout: float = START_TIMEOUT, status: str = "yellow") -> LocalCluster:
        """Start every node and wait until they answer, have formed one cluster and it is at least ``status``."""
        classpath = build()
        try:
            for node in self.nodes:
                node.start(classpath)
            deadline = time.monotonic() + timeout
            for node in self.nodes:
                node.wait_up(max(1.0, deadline - time.monotonic()))
            self.wait_health(status, nodes=len(self.nodes), timeout=max(1.0, deadline - time.monotonic()))
        except BaseException:
            self.kill()
            raise
        return self

    def health(self, node: LocalNode | None = None) -> dict:
        node = node or self.running()[0]
        try:
            return get_json(f"{node.url}/_cluster/health", timeout=5.0)
        except urllib.error.HTTPError as exc:  # 503 while no cluster manager is elected; the body still says so
            return json.load(exc)

    def wait_health(self, status: str = "yellow", *, nodes: int | None = None, timeout: float = START_TIMEOUT) -> dict:
        """Wait until the cluster (as a running node sees it) reaches ``status`` with ``nodes`` nodes."""
        rank = {"red": 0, "yellow": 1, "green": 2}
        deadline = time.monotonic() + timeout
        health: dict = {}
        while time.monotonic() < deadline:
            for node in self.running():
                try:
                    health = self.health(node)
                except (OSError, ValueError):
                    continue
                if rank.get(health.get("status"), -1) >= rank[status] and (nodes is None or health.get("number_of_nodes") == nodes):
                    return health
                break
            time.sleep(0.25)
        raise NodeError(f"cluster {self.name} not {status} with {nodes or 'its'} nodes within {timeout:.0f} s: {health or 'no answer'}")

    def cluster_manager(self) -> LocalNode:
        """The node currently elected cluster manager."""
        for node in self.running():
            try:
                rows = get_json(f"{node.url}/_cat/cluster_manager?format=json", timeout=5.0)
            except (OSError, ValueError):
                continue
            for candidate in self.nodes:
                if rows and rows[0].get("node") == candidate.name:
                    return candidate
        raise NodeError(f"cluster {self.name} has no elected cluster manager")

    def stop(self) -> None:
        """SIGTERM every node, then wait for all (they close in parallel)."""
        for node in self.running():
            node.process.send_signal(signal.SIGTERM)
        for node in self.nodes:
            node.stop()

    def kill(self) -> None:
        for node in self.nodes:
            node.kill()

    def rss_bytes(self) -> int:
        return sum(node.rss_bytes() for node in self.nodes)


def data_bytes(paths: Iterable[Path]) -> int:
    """Bytes on disk under the nodes' data folders."""
    total = 0
    for path in paths:
        for file in Path(path).rglob("*"):
            if file.is_file():
                total += file.stat().st_size
    return total


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m search.backends.opensearch.localnode",
                                     description=f"Run one OpenSearch {OPENSEARCH_VERSION} node on 127.0.0.1 in the foreground until interrupted.")
    parser.add_argument("--port", type=int, default=9200, help="HTTP port (default 9200); transport uses port + 100")
    parser.add_argument("--data", default=".opensearch", help="the node's home: data, logs (default .opensearch)")
    parser.add_argument("--heap", type=int, default=DEFAULT_HEAP_MB, help=f"JVM heap in MB (default {DEFAULT_HEAP_MB})")
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65435:
        parser.error(f"--port {args.port}: not a TCP port")
    if args.heap < 128:
        parser.error(f"--heap {args.heap}: at least 128 MB")
    node = LocalNode("node-1", args.data, http_port=args.port, transport_port=args.port + 100, heap_mb=args.heap)
    # Ctrl-C reaches the JVM too (same process group): it closes itself; we wait for it.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        node.start()
        started = time.monotonic()
        node.wait_up()
        print(f"OpenSearch {OPENSEARCH_VERSION} ready at {node.url} in {time.monotonic() - started:.1f} s "
              f"(data and log in {node.home}); Ctrl-C stops it", flush=True)
        print(f"  try: python -m search index samples --backend opensearch --opensearch {node.url}", flush=True)
        node.process.wait()
        print(f"the node exited with status {node.process.returncode}; {node.log_path}:\n{node.log_tail()}", file=sys.stderr)
        return 1
    except NodeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopping the node ...", file=sys.stderr, flush=True)
        return 0
    finally:
        node.stop()


if __name__ == "__main__":
    sys.exit(main())
