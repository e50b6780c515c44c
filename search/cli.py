"""Command line: ``python -m search index|query|serve``.

Exit status: 0 success, 1 some input failed or an engine error, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from search.backends.base import DEFAULT_OPENSEARCH_INDEX, BackendConfig
from search.errors import SearchError


def _index_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index",
        default=None,
        metavar="DIR",
        help="index folder of the whoosh backend (default: $SEARCH_INDEX, else ./index)",
    )
    parser.add_argument(
        "--backend",
        choices=("whoosh", "opensearch"),
        default=None,
        help="where articles are stored and searched: whoosh (an index folder, the default) or "
        "opensearch (a cluster); default $SEARCH_BACKEND, else whoosh",
    )
    parser.add_argument(
        "--opensearch",
        action="append",
        default=None,
        metavar="URL",
        help="OpenSearch node URL; repeat it or separate with commas for a cluster "
        "(default $SEARCH_OPENSEARCH_URL, else http://127.0.0.1:9200)",
    )
    parser.add_argument(
        "--opensearch-index",
        default=None,
        metavar="NAME",
        help=f"OpenSearch index name (default {DEFAULT_OPENSEARCH_INDEX})",
    )
    parser.add_argument("--shards", type=_positive_int, default=None, metavar="N", help="primary shards of a new OpenSearch index (default 1)")
    parser.add_argument(
        "--replicas", type=_count, default=None, metavar="N", help="replicas of each shard of a new OpenSearch index (default 0)"
    )


def backend_config(args: argparse.Namespace) -> BackendConfig:
    """The storage configuration from the command line, then the environment."""
    return BackendConfig.from_env(
        backend=args.backend,
        index_dir=args.index,
        urls=args.opensearch,
        index_name=args.opensearch_index,
        shards=args.shards,
        replicas=args.replicas,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m search", description="Bilingual (Chinese + English) news search.")
    sub = parser.add_subparsers(dest="command", required=True)

    p_index = sub.add_parser("index", help="index files and folders (incremental)")
    p_index.add_argument("paths", nargs="+", metavar="PATH", help="a .jsonl or .txt file, or a folder (recursed)")
    _index_arg(p_index)
    p_index.add_argument("--prune", action="store_true", help="delete articles whose source file (or JSONL line) is gone")
    p_index.add_argument("--quiet", action="store_true", help="no progress bar")
    p_index.add_argument(
        "--batch-size",
        type=_positive_int,
        default=None,
        metavar="N",
        help="commit after every N new or changed articles (default 10000; smaller loses less to a crash)",
    )
    p_index.add_argument(
        "--procs",
        type=_positive_int,
        default=None,
        metavar="N",
        help="processes that analyze and write (default: the cores, at most 2)",
    )

    p_query = sub.add_parser("query", help="search the index")
    p_query.add_argument("text", metavar="QUERY")
    _index_arg(p_query)
    p_query.add_argument("--limit", type=int, default=10, metavar="N", help="hits per page (1-100, default 10)")
    p_query.add_argument("--page", type=int, default=1, metavar="N", help="page number (default 1)")
    p_query.add_argument("--json", action="store_true", help="print the API's JSON instead of text")
    p_query.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="published on or after this date")
    p_query.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="published on or before this date")
    p_query.add_argument("--speaker", metavar="NAME", help="only articles quoting this person (any alias, any script)")
    p_query.add_argument("--lang", choices=("zh", "en", "both"), default=None, help="only articles with text in this language")
    p_query.add_argument("--sort", choices=("relevance", "date"), default="relevance", help="order of hits")
    p_query.add_argument("--no-translate", action="store_true", help="do not search translations of the query")
    p_query.add_argument(
        "--explain",
        action="store_true",
        help="first print how the query was read: per term its converted form and the translations searched "
        "(with --json the same is in the output's 'interpreted')",
    )

    p_serve = sub.add_parser("serve", help="serve the web UI and JSON API")
    _index_arg(p_serve)
    p_serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p_serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p_serve.add_argument(
        "--threads",
        type=int,
        default=1,
        help="requests each process computes at once (default 1: searches are CPU work, and Python "
        "threads contending for one core cost more than they give; use --workers for parallelism)",
    )
    p_serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the port (default 1; use the number of cores for more requests/s)",
    )
    return parser


def _at_least(minimum: int):
    """An argparse type: a whole number of at least ``minimum``."""

    def whole(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more, got {value}")
        return value

    return whole


_positive_int = _at_least(1)
_count = _at_least(0)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.backend_config = backend_config(args)
        index_dir = args.backend_config.index_dir
        if args.command == "index":
            return _cmd_index(args, index_dir)
        if args.command == "query":
            return _cmd_query(args, index_dir)
        return _cmd_serve(args, index_dir)
    except SearchError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("interrupted: batches committed so far are kept", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not bad input: say so in one line, keep the index intact
        print(f"error: internal error ({type(exc).__name__}: {exc}); please report it", file=sys.stderr)
        return 70


def _cmd_index(args: argparse.Namespace, index_dir: str) -> int:
    from tqdm import tqdm

    from search.indexer import BATCH_SIZE, Indexer
    from search.ingest import iter_files

    total = sum(_size(path) for path, ok in iter_files(args.paths) if ok)
    indexer = Indexer(procs=args.procs, batch_size=args.batch_size or BATCH_SIZE, config=args.backend_config)
    with tqdm(total=total, unit="B", unit_scale=True, desc="indexing", disable=True if args.quiet else None, file=sys.stderr) as bar:
        report = indexer.run(args.paths, prune=args.prune, progress=bar.update)
    for path, encoding in report.encodings.items():
        if encoding not in ("utf-8", "ascii"):
            print(f"note: {path}: decoded as {encoding}", file=sys.stderr)
    for message in report.warnings:
        print(f"warning: {message}", file=sys.stderr)
    for message in report.failures:
        print(f"failed: {message}", file=sys.stderr)
    print(report.summary())
    return 1 if report.failed else 0


def _cmd_query(args: argparse.Namespace, index_dir: str) -> int:
    from search.searcher import Engine

    from search.errors import QueryError
    from search.filters import SearchFilters

    option = {"size": "--limit", "page": "--page", "from": "--from", "to": "--to", "speaker": "--speaker"}
    try:
        filters = SearchFilters.from_params(
            {
                "from": args.date_from,
                "to": args.date_to,
                "speaker": args.speaker,
                "lang": args.lang,
                "sort": args.sort,
                "translate": not args.no_translate,
            }
        )
        engine = Engine(config=args.backend_config)
        result = engine.search(args.text, page=args.page, size=args.limit, filters=filters)
    except QueryError as exc:
        name = option.get(exc.param or "", exc.param)
        message = exc.message.replace(f"{exc.param} ", f"{name} ", 1) if exc.param and exc.message.startswith(exc.param) else exc.message
        raise QueryError(message, param=name) from None
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return 0
    if args.explain:
        print(_render_explain(result.interpreted, translate=filters.translate))
        print()
    print(_render_text(result))
    return 0


def _render_explain(interpreted, *, translate: bool) -> str:
    """The query as the engine read it: analyzed terms, then per translated term its forms and translations."""
    lines = [f"query read as: {interpreted.normalized!r}"]
    for lang, words in interpreted.terms.items():
        if words:
            lines.append(f"  {lang} terms: {' '.join(words)}")
    for phrase in interpreted.phrases:
        lines.append(f"  phrase: {' '.join(phrase)}")
    if interpreted.excluded:
        lines.append(f"  excluded: {' '.join(interpreted.excluded)}")
    if not translate:
        lines.append("  translation: off (--no-translate)")
    elif not interpreted.translations:
        lines.append("  translation: no term has a translation this index can match")
    for item in interpreted.translations:
        converted = f" [{item['converted']}]" if item.get("converted") and item["converted"] != item["term"] else ""
        excluded = " (excluded)" if item.get("excluded") else ""
        lines.append(f"  {item['term']}{converted} ({item['lang']}){excluded} → {', '.join(item['translations'])}")
    for warning in interpreted.warnings:
        lines.append(f"  note: {warning}")
    return "\n".join(lines)


def _render_text(result) -> str:
    import html
    import re

    mark = re.compile(r"<mark>(.*?)</mark>")
    tty = sys.stdout.isatty()

    def plain(snippet: str) -> str:
        shown = mark.sub(lambda m: f"\033[1;33m{m.group(1)}\033[0m" if tty else f"[{m.group(1)}]", snippet)
        return html.unescape(shown)

    terms = "; ".join(f"{lang}: {' '.join(words)}" for lang, words in result.interpreted.terms.items() if words)
    lines = [f"{result.total} hits for {result.query!r} ({terms or 'no searchable words'}) in {result.took_ms:.1f} ms"]
    for warning in result.interpreted.warnings:
        lines.append(f"note: {warning}")
    first = (result.page - 1) * result.size
    for n, hit in enumerate(result.hits, start=first + 1):
        titles = " / ".join(t for t in (hit.title.get("zh"), hit.title.get("en")) if t) or "(untitled)"
        meta = " · ".join(x for x in (hit.date, hit.source, hit.id) if x)
        lines.append("")
        lines.append(f"{n}. {titles}")
        lines.append(f"   {meta}  score {hit.score:.2f}")
        for lang in ("zh", "en"):
            for snippet in hit.snippets.get(lang, [])[:2]:
                lines.append(f"   [{lang}] {plain(snippet)}")
    return "\n".join(lines)


def _cmd_serve(args: argparse.Namespace, index_dir: str) -> int:
    import waitress

    from web import create_app

    if not 1 <= args.workers <= 64:
        raise SearchError(f"--workers must be between 1 and 64, got {args.workers}", param="workers")
    if not 1 <= args.threads <= 64:
        raise SearchError(f"--threads must be between 1 and 64, got {args.threads}", param="threads")
    app = create_app({"INDEX_DIR": index_dir, "BACKEND": args.backend_config})
    _warm(app)
    options = {"threads": args.threads, "max_request_body_size": 1024 * 1024, "channel_timeout": 30, "ident": "news-search"}
    if args.workers == 1:
        print(f"serving {args.backend_config.where} on http://{args.host}:{args.port}/", flush=True)
        waitress.serve(app, host=args.host, port=args.port, **options)
        return 0
    return _serve_workers(app, args, index_dir, options)


def _warm(app) -> None:
    """Load the dictionaries, analyzers and long posting lists before serving (before forking,
    so that worker processes share them), then move everything loaded out of the garbage
    collector's sight: a full collection walking millions of start-up objects was a
    50 ms pause in the middle of a search."""
    import gc

    from search.errors import IndexMissingError
    from web import engine

    started = time.perf_counter()
    with app.app_context():
        try:
            warmed = engine()
            postings = warmed.warm()
        except IndexMissingError:
            return  # the index may be built after start-up: the first search opens it
    with app.test_client() as client:  # Flask's own first-request work
        client.get("/api/search?q=warm")
    if warmed.warmer is not None:  # a commit landed meanwhile: no thread may be running at fork time
        warmed.warmer.join()
    gc.collect()
    gc.freeze()
    print(f"ready in {time.perf_counter() - started:.1f} s ({postings:,} postings in memory)", flush=True)


def _fewest_connections_accept(server, open_counts, slot: int) -> None:
    """Let ``server`` accept a connection only while no other worker holds fewer.

    Workers share one listening socket, and waitress accepts whatever is waiting:
    the first worker to wake took all eight keep-alive connections of a benchmark
    while the other sat idle. Each worker publishes its number of open connections
    in ``open_counts`` (shared memory) whenever its loop turns — which it does after
    every accept and close — and listens only while its count is the lowest, so
    connections alternate between workers. The lowest count always listens.
    """
    readable = server.readable

    def balanced_readable() -> bool:
        listening = readable()
        mine = len(server.active_channels)
        open_counts[slot] = mine
        return listening and mine <= min(open_counts)

    server.readable = balanced_readable


def _serve_workers(app, args: argparse.Namespace, index_dir: str, options: dict) -> int:
    """Several server processes on one listening socket, connections spread evenly.

    One Python process runs one thread at a time, so a single server uses one core
    however many threads it has. The parent loads the dictionaries and the index
    statistics once (the children share those pages), forks the workers, restarts a
    worker that dies, and stops them all on SIGTERM or Ctrl-C.
    """
    import logging
    import multiprocessing
    import signal
    import socket

    import waitress

    from search.processes import die_with_parent

    sock = socket.create_server((args.host, args.port), backlog=1024)
    open_counts = multiprocessing.RawArray("l", args.workers)
    slots: dict[int, int] = {}  # worker pid → its slot in open_counts
    children: set[int] = set()
    stopping = False

    parent = os.getpid()

    def spawn(slot: int) -> None:
        open_counts[slot] = 0
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                die_with_parent(parent, signal.SIGTERM)
                logging.basicConfig()  # as waitress.serve does: its warnings reach stderr
                server = waitress.create_server(app, sockets=[sock], **options)
                _fewest_connections_accept(server, open_counts, slot)
                server.run()
            except BaseException:  # noqa: BLE001 - a worker reports nothing but its exit status
                code = 1
            finally:
                os._exit(code)
        children.add(pid)
        slots[pid] = slot

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for slot in range(args.workers):
        spawn(slot)
    print(f"serving {args.backend_config.where} on http://{args.host}:{args.port}/ with {args.workers} processes", flush=True)
    restarts: list[float] = []
    while children:
        try:
            pid, _ = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        children.discard(pid)
        slot = slots.pop(pid, None)
        if slot is None:
            continue
        open_counts[slot] = 2**31  # until its successor starts, the dead worker's count must not hold others back
        if stopping:
            continue
        now = time.monotonic()
        restarts = [t for t in restarts if now - t < 60] + [now]
        if len(restarts) > 10:
            print("error: server workers keep dying; stopping", file=sys.stderr)
            stop(signal.SIGTERM, None)
            return 1
        spawn(slot)
    sock.close()
    return 0


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
