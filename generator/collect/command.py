"""``afro-mnist collect serve|review|export``: the command line of the collection.

afro-mnist collect serve --configs geez vai --db collect.sqlite [--host 127.0.0.1] [--port 8000] [--goal 20]
AFRO_MNIST_REVIEW_TOKEN=... afro-mnist collect review --db collect.sqlite [--port 8001]
afro-mnist collect export --db collect.sqlite --out DIR --format exemplars|parquet|strokes [--configs NAME ...]
afro-mnist collect stats --db collect.sqlite [--class-goal 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
from pathlib import Path

from generator.collect.settings import (
    DEFAULT_CLASS_GOAL,
    DEFAULT_DB,
    DEFAULT_GOAL,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_REVIEW_PORT,
    DEFAULT_TEST_SHARE,
    FORMATS,
    MIN_TOKEN_LENGTH,
    TOKEN_VARIABLE,
)
from generator.errors import InputError
from generator.registry import default_configs, resolve

PUBLIC_WARNING = (
    "warning: --host {host} serves the page to every network this machine is on. Put it behind a "
    "reverse proxy that terminates TLS (HTTPS), so that drawings and cookies never cross the network "
    "in the clear. The proxy must pass the Host header through unchanged (posts whose Origin differs from "
    "it are refused) and should send the client's address in X-Forwarded-For, for the rate limits (trusted from "
    "127.0.0.1; set FORWARDED_ALLOW_IPS for a proxy elsewhere)."
)


def add_arguments(collect: argparse.ArgumentParser) -> None:
    commands = collect.add_subparsers(
        dest="collect_command", metavar="serve|review|export|stats", required=True, parser_class=type(collect)
    )

    def common(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--db",
            default=DEFAULT_DB,
            help=f"a SQLite file, or a sqlite:// or postgresql:// URL (default: {DEFAULT_DB})",
        )
        command.add_argument("--configs", nargs="+", metavar="NAME", help="default: " + " ".join(default_configs()))
        command.add_argument("--spec", action="append", type=Path, metavar="FILE", help="a numeral system's TOML spec")

    def server(command: argparse.ArgumentParser, port: int) -> None:
        command.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default: {DEFAULT_HOST})")
        command.add_argument("--port", type=int, default=port, help=f"default: {port}")

    serve = commands.add_parser("serve", help="serve the drawing page")
    common(serve)
    server(serve, DEFAULT_PORT)
    serve.add_argument(
        "--goal", type=int, default=DEFAULT_GOAL, help=f"drawings asked of a visitor (default: {DEFAULT_GOAL})"
    )
    serve.add_argument(
        "--lan",
        action="store_true",
        help="listen on this machine's address on the local network, and print the URL and a QR code for phones",
    )

    review = commands.add_parser("review", help="serve the review page, behind a token")
    common(review)
    server(review, DEFAULT_REVIEW_PORT)
    review.add_argument(
        "--token", help=f"the review token; better given as ${TOKEN_VARIABLE}, which other users cannot see in ps"
    )
    review.add_argument(
        "--join-url",
        metavar="URL",
        help=f"the drawing page's address, for the join page's QR code (default: this machine's LAN address, "
        f"port {DEFAULT_PORT}, as collect serve --lan prints it)",
    )
    review.add_argument(
        "--class-goal",
        type=int,
        default=DEFAULT_CLASS_GOAL,
        help=f"the organiser's page: usable drawings wanted of each class (default: {DEFAULT_CLASS_GOAL})",
    )

    export = commands.add_parser("export", help="write the usable drawings as seeds, a parquet config or strokes")
    common(export)
    export.add_argument("--out", type=Path, required=True, metavar="DIR")
    export.add_argument("--format", dest="file_format", choices=FORMATS, required=True)
    export.add_argument(
        "--test-share",
        type=float,
        default=DEFAULT_TEST_SHARE,
        help=f"parquet: share of drawings in test, whole writers at a time (default: {DEFAULT_TEST_SHARE})",
    )
    export.add_argument("--overwrite", action="store_true", help="replace what an earlier export wrote")

    stats = commands.add_parser("stats", help="how the campaign stands: drawings per config, class and writer")
    common(stats)
    stats.add_argument(
        "--class-goal",
        type=int,
        default=DEFAULT_CLASS_GOAL,
        help=f"usable drawings wanted of each class (default: {DEFAULT_CLASS_GOAL})",
    )
    stats.add_argument("--json", action="store_true", help="print the figures as JSON")


def run(args: argparse.Namespace) -> None:
    try:
        from generator.collect.storage import Storage  # on use: SQLAlchemy, of the optional collect extra
    except ModuleNotFoundError as exc:
        raise InputError(
            f'afro-mnist collect needs {exc.name}, which is not installed; pip install "afro-mnist[collect]"'
        ) from None

    if args.collect_command == "stats":
        from generator.collect.stats import collection_stats, stats_text  # on use: SQLAlchemy

        if args.class_goal < 1:
            raise InputError(f"--class-goal {args.class_goal} must be at least 1")
        storage = Storage(args.db)
        try:
            names = args.configs or storage.configs()
            figures = collection_stats(
                storage, resolve(names, args.spec) if names else [], class_goal=args.class_goal, db=args.db
            )
        finally:
            storage.close()
        print(json.dumps(figures, indent=2, ensure_ascii=False) if args.json else stats_text(figures))
        return

    if args.collect_command == "export":
        from generator.collect.export import export  # on use: SQLAlchemy and parquet

        storage = Storage(args.db)
        try:
            names = args.configs or [name for name in storage.configs()]
            if not names:
                raise InputError(f"--db {args.db} holds no drawings yet; serve the page and collect some first")
            systems = resolve(names, args.spec)
            for path, note in export(
                storage, systems, args.file_format, args.out, test_share=args.test_share, overwrite=args.overwrite
            ):
                print(note, file=sys.stderr)
                print(path)
        finally:
            storage.close()
        return

    if not 0 < args.port < 65536:
        raise InputError(f"--port {args.port} must lie in 1..65535")
    systems = resolve(args.configs, args.spec)
    if args.collect_command == "review":
        from generator.collect.review import create_review_app  # on use: Starlette, of the collect extra

        token = args.token or os.environ.get(TOKEN_VARIABLE, "")
        if len(token) < MIN_TOKEN_LENGTH:
            raise InputError(
                f"the review page needs a token of at least {MIN_TOKEN_LENGTH} characters: set ${TOKEN_VARIABLE} "
                '(for example to the output of `python -c "import secrets; print(secrets.token_urlsafe())"`)'
            )
        if args.class_goal < 1:
            raise InputError(f"--class-goal {args.class_goal} must be at least 1")
        join = args.join_url or _default_join_url()
        if not join.startswith(("http://", "https://")) or any(c.isspace() for c in join) or len(join) > 500:
            raise InputError(f"--join-url {join[:80]!r} is not an http:// or https:// address; pass the page's URL")
        storage = Storage(args.db)
        app = create_review_app(storage, systems, token, join_url=join, class_goal=args.class_goal, db=args.db)
        path = "/review"
    else:
        from generator.collect.app import check_fonts, create_app  # on use: Starlette, of the collect extra

        if args.goal < 1:
            raise InputError(f"--goal {args.goal} must be at least 1")
        check_fonts(systems)
        if args.lan:
            args.host = _lan_host(args.host)
        storage = Storage(args.db)
        app = create_app(storage, systems, goal=args.goal)
        path = "/"
    _check_free(args.host, args.port)
    if getattr(args, "lan", False):
        from generator.collect.lan import LAN_WARNING, join_url, terminal_qr

        print(LAN_WARNING, file=sys.stderr)
        print(terminal_qr(join_url(args.host, args.port)), flush=True)
    elif args.host not in ("127.0.0.1", "localhost", "::1"):
        print(PUBLIC_WARNING.format(host=args.host), file=sys.stderr)
    serve_forever(app, args.host, args.port, f"{', '.join(s.name for s in systems)} into {args.db}", path)
    storage.close()


def _lan_host(host: str) -> str:
    """The address ``serve --lan`` listens on: the machine's LAN address.

    Raises:
        InputError: ``--host`` given as well, or no local network.
    """
    from generator.collect.lan import lan_address

    if host != DEFAULT_HOST:
        raise InputError(f"--lan listens on this machine's LAN address; leave out --host {host}, or --lan")
    address = lan_address()
    if address is None:
        raise InputError("--lan: this machine has no address on a local network; join the Wi-Fi first, or pass --host")
    return address


def _default_join_url() -> str:
    from generator.collect.lan import join_url, lan_address

    return join_url(lan_address() or DEFAULT_HOST, DEFAULT_PORT)


def _check_free(host: str, port: int) -> None:
    """Refuses a port already taken before the server starts, instead of uvicorn's exit after a log line."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise InputError(f"--host {host} is not an address of this machine; use 127.0.0.1 or 0.0.0.0") from None
    family, kind, protocol, _, address = infos[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise InputError(
                f"--host {host} --port {port} cannot be served ({exc.strerror}); pick another --port"
            ) from None


def serve_forever(app, host: str, port: int, what: str, path: str = "/") -> None:  # type: ignore[no-untyped-def]
    """Runs uvicorn until interrupted. No access log: it would record every visitor's address."""
    import uvicorn  # on use: the server, of the optional collect extra

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    shown = f"[{host}]" if ":" in host else host
    print(f"afro-mnist collect: serving {what}", file=sys.stderr, flush=True)
    print(f"http://{shown}:{port}{path}", flush=True)
    uvicorn.run(app, host=host, port=port, access_log=False, server_header=False, log_level="warning")
