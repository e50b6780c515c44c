"""Command line: ``python -m search index|query|serve``.

Exit status: 0 success, 1 some input failed or an engine error, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import sys

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


#: The ``index`` command's default niceness: under 2 cores shared with a server, indexing at the
#: same priority made the searches of the second after a 2,000-article commit 3.3x slower (p99).
INDEX_NICENESS = 10


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
        help="commit after every N new or changed articles (default 20000; smaller loses less to a crash)",
    )
    p_index.add_argument(
        "--procs",
        type=_positive_int,
        default=None,
        metavar="N",
        help="processes that analyze and write (default: the cores, at most 2)",
    )
    p_index.add_argument(
        "--no-merge",
        action="store_true",
        help="OpenSearch: do not merge the index's segments after a run that stored a fifth of its articles or more "
        "(by default such a run ends with a force merge, one segment per shard: searches then cost the cluster about half)",
    )
    p_index.add_argument(
        "--nice",
        type=_niceness,
        default=INDEX_NICENESS,
        metavar="N",
        help=f"lower CPU priority (0-19, default {INDEX_NICENESS}): a server searching on the same machine stays fast while this indexes; alone, it runs at full speed",
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
        help="server processes sharing the port (default 1; use the number of cores for more requests/s, "
        "twice that with --backend opensearch, whose workers wait on the cluster for half of each search)",
    )
    p_serve.add_argument("--timeout", type=_positive_float, default=60.0, metavar="S", help="a worker busy with one request longer than this is killed and replaced (default 60)")
    p_serve.add_argument("--graceful-timeout", type=_positive_float, default=30.0, metavar="S", help="on SIGTERM or SIGHUP, how long requests in progress may take to finish (default 30)")
    p_serve.add_argument("--max-requests", type=int, default=0, metavar="N", help="replace a worker after about N requests (default 0: never)")
    p_serve.add_argument("--max-connections", type=_positive_int, default=1000, metavar="N", help="open connections per worker; more are answered 503 at once (default 1000)")
    p_serve.add_argument("--read-timeout", type=_positive_float, default=10.0, metavar="S", help="a request must arrive whole within this many seconds of its first byte (default 10)")
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


def _niceness(text: str) -> int:
    value = _count(text)
    if value > 19:
        raise argparse.ArgumentTypeError(f"must be 19 or less, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value < 1e6:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


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
        if isinstance(exc, BrokenPipeError) and _output_gone():  # the output's reader went away (| head)
            return 1
        print(f"error: internal error ({type(exc).__name__}: {exc}); please report it", file=sys.stderr)
        return 70


def _output_gone() -> bool:
    """Whether standard output's reader has gone away (its pipe reports an error), as opposed to
    a broken pipe elsewhere (a helper process's), which is a bug to report."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll (Windows), no file descriptor
        return False


def _cmd_index(args: argparse.Namespace, index_dir: str) -> int:
    from search.indexer import BATCH_SIZE, Indexer
    from search.ingest import iter_files

    if args.nice:
        os.nice(args.nice)  # the writer processes inherit it
    indexer = Indexer(procs=args.procs, batch_size=args.batch_size or BATCH_SIZE, config=args.backend_config, merge=not args.no_merge)
    if args.quiet or not sys.stderr.isatty():
        # No bar (tqdm draws none off a terminal either): not imported, 35 ms of every such run.
        report = indexer.run(args.paths, prune=args.prune)
    else:
        from tqdm import tqdm

        total = sum(_size(path) for path, ok in iter_files(args.paths) if ok)
        with tqdm(total=total, unit="B", unit_scale=True, desc="indexing", file=sys.stderr) as bar:
            report = indexer.run(args.paths, prune=args.prune, progress=bar.update)
    for path, encoding in report.encodings.items():
        if encoding not in ("utf-8", "ascii"):
            print(f"note: {path}: decoded as {encoding}", file=sys.stderr)
    for message in report.notes:
        print(f"note: {message}", file=sys.stderr)
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
    lines += [f"  {line}" for line in _assisted(interpreted)]
    for warning in interpreted.warnings:
        lines.append(f"  note: {warning}")
    return "\n".join(lines)


def _typed(interpreted) -> str:
    """The searched words per language, English as typed (not its stems)."""
    words = {**interpreted.terms, **{lang: found for lang, found in (interpreted.words or {}).items() if found}}
    return "; ".join(f"{lang}: {' '.join(found)}" for lang, found in words.items() if found)


def _assisted(interpreted) -> list[str]:
    """Lines saying which typos were corrected and what was read as pinyin."""
    lines = []
    if interpreted.corrected_query:
        lines.append(f"showing results for {interpreted.corrected_query!r} · search instead for {interpreted.verbatim_query!r}")
    for item in interpreted.pinyin:
        lines.append(f"pinyin: {item['typed']} → {', '.join(item['words'])}")
    return lines


def _render_text(result) -> str:
    import html
    import re

    mark = re.compile(r"<mark>(.*?)</mark>")
    tty = sys.stdout.isatty()

    def plain(snippet: str) -> str:
        shown = mark.sub(lambda m: f"\033[1;33m{m.group(1)}\033[0m" if tty else f"[{m.group(1)}]", snippet)
        return html.unescape(shown)

    more = f" (+ {result.total_partial} with only some of the words)" if result.total_partial else ""
    lines = [f"{result.total} hits{more} for {result.query!r} ({_typed(result.interpreted) or 'no searchable words'}) in {result.took_ms:.1f} ms"]
    if result.interpreted.dropped:
        lines.append(f"note: no article holds all the words; showing articles without {', '.join(result.interpreted.dropped)}")
    if result.interpreted.sources:
        lines.append(f"note: read as the page's source, not required: {', '.join(result.interpreted.sources)}")
    lines += _assisted(result.interpreted)
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
    from web import create_app
    from web.server import ServeOptions, serve, warm

    for name, low, high in (("workers", 1, 64), ("threads", 1, 64), ("max_requests", 0, 10**9)):
        if not low <= getattr(args, name) <= high:
            option = "--" + name.replace("_", "-")
            raise SearchError(f"{option} must be between {low} and {high}, got {getattr(args, name)}", param=name)
    options = ServeOptions(
        host=args.host,
        port=args.port,
        workers=args.workers,
        threads=args.threads,
        max_connections=args.max_connections,
        read_timeout=args.read_timeout,
        request_timeout=args.timeout,
        graceful_timeout=args.graceful_timeout,
        max_requests=args.max_requests,
    )
    app = create_app({"INDEX_DIR": index_dir, "BACKEND": args.backend_config})
    warm(app)
    processes = f" with {args.workers} processes" if args.workers > 1 else ""
    return serve(app, options, announce=f"serving {args.backend_config.where} on http://{args.host}:{args.port}/{processes}")


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
