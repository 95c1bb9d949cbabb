"""``campaign-mock``: the command line.

Every problem a user can cause (a bad flag, config or spec, a port in use) ends in one
line naming what to fix and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from campaign_mock import __version__
from campaign_mock.conformance.cli import add_check_parser
from campaign_mock.contract.cli import add_review_parsers
from campaign_mock.contract.errors import ContractError
from campaign_mock.server.assembly import Assembled, assemble
from campaign_mock.server.config import BY_KEY, DEMO_API_KEY, ConfigError, ServeSettings, env_name, resolve_settings
from campaign_mock.server.granian_runner import free_port, require_granian, serve_granian, wait_until_listening
from campaign_mock.server.persistence import StateFile, StateFileError
from campaign_mock.server.redaction import mask_key_entry
from campaign_mock.server.waitress_runner import create_waitress_server

USAGE_ERROR = 2

QUEUE_LOGGER = "waitress.queue"


def _help(key: str, extra: str = "") -> str:
    setting = BY_KEY[key]
    default = "" if setting.default in (None, [], {}) else f" (default: {setting.default})"
    env = f"; env {env_name(key)}" if setting.env else ""
    return f"{setting.help}{extra}{default}. Config key: {key}{env}."


def _add_serve(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve a contract as a stateful mock (waitress)",
        description=(
            "Serve a campaign contract as a stateful in-memory mock. Settings come from, in rising "
            "precedence: built-in defaults, --config FILE, CAMPAIGN_MOCK_* environment variables, flags."
        ),
    )
    serve.add_argument(
        "--config", metavar="FILE", help=f"YAML file of settings (keys as listed below); env {env_name('config')}."
    )
    serve.add_argument("--spec", metavar="PATH|NAME|URL", help=_help("spec"))
    serve.add_argument("--host", help=_help("host"))
    serve.add_argument("--port", type=str, help=_help("port"))
    serve.add_argument(
        "--api-key", dest="api_keys", action="append", metavar="KEY", help=_help("api_keys", "; repeat for several")
    )
    serve.add_argument("--error-format", metavar="NAME", help=_help("error_format"))
    serve.add_argument("--server", metavar="NAME", help=_help("server"))
    serve.add_argument("--workers", metavar="N", help=_help("workers"))
    serve.add_argument("--threads", type=str, metavar="N", help=_help("threads"))
    serve.add_argument("--max-body-bytes", type=str, metavar="N", help=_help("max_body_bytes"))
    serve.add_argument("--max-header-bytes", metavar="N", help=_help("max_header_bytes"))
    serve.add_argument("--max-query-bytes", metavar="N", help=_help("max_query_bytes"))
    serve.add_argument("--max-json-depth", metavar="N", help=_help("max_json_depth"))
    serve.add_argument("--rate-limit", metavar="WINDOWS", help=_help("rate_limit"))
    serve.add_argument("--rate-limit-scope", metavar="SCOPE", help=_help("rate_limit_scope"))
    serve.add_argument("--rate-limit-algorithm", metavar="NAME", help=_help("rate_limit_algorithm"))
    serve.add_argument("--rate-limit-headers", metavar="STYLE", help=_help("rate_limit_headers"))
    serve.add_argument("--concurrency-limit", metavar="N", help=_help("concurrency_limit"))
    serve.add_argument("--concurrency-queue", metavar="N", help=_help("concurrency_queue"))
    serve.add_argument("--concurrency-wait", metavar="SECONDS", help=_help("concurrency_wait"))
    serve.add_argument(
        "--no-admin", dest="admin", action="store_const", const=False, help=_help("admin", "; this flag turns it off")
    )
    serve.add_argument("--admin-key", metavar="KEY", help=_help("admin_key"))
    serve.add_argument("--clock-start", metavar="TIMESTAMP", help=_help("clock_start"))
    serve.add_argument("--freeze-clock", action="store_const", const=True, help=_help("freeze_clock"))
    serve.add_argument("--fault-seed", metavar="N", help=_help("fault_seed"))
    serve.add_argument("--journal-size", metavar="N", help=_help("journal_size"))
    serve.add_argument("--journal-bytes", metavar="N", help=_help("journal_bytes"))
    serve.add_argument("--max-campaigns", metavar="N", help=_help("max_campaigns"))
    serve.add_argument("--max-events", metavar="N", help=_help("max_events"))
    serve.add_argument("--max-connections", metavar="N", help=_help("max_connections"))
    serve.add_argument("--idle-timeout", metavar="SECONDS", help=_help("idle_timeout"))
    serve.add_argument("--body-timeout", metavar="SECONDS", help=_help("body_timeout"))
    serve.add_argument("--state-file", metavar="PATH", help=_help("state_file"))
    serve.add_argument("--state-interval", metavar="SECONDS", help=_help("state_interval"))
    serve.add_argument(
        "--no-request-log",
        dest="log_requests",
        action="store_const",
        const=False,
        help=_help("log_requests", "; this flag turns it off"),
    )
    serve.set_defaults(run=run_serve)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="campaign-mock",
        description=(
            "Contract-first toolkit for campaign lifecycle APIs: serve a stateful mock of a contract, "
            "check that an implementation honours one, lint a contract, draw its lifecycle."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_serve(commands)
    add_check_parser(commands)
    add_review_parsers(commands)
    return parser


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    return {key: getattr(args, key) for key in BY_KEY if getattr(args, key, None) is not None}


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _print_banner(settings: ServeSettings, assembled: Assembled, port: int) -> None:
    root = _url(settings.host, port)
    title = assembled.contract.document.get("info", {}).get("title", "API")
    print(
        f"campaign-mock: serving {title} ({assembled.contract.origin}) at {root}{assembled.contract.base_path}",
        flush=True,
    )
    if settings.api_keys:  # the user's own keys: shown masked, as in every log and journal line
        print(f"campaign-mock: API keys: {', '.join(map(mask_key_entry, assembled.api_keys))}", flush=True)
    elif len(assembled.api_keys) > 1:  # the spec's documented demo keys: public, shown as they are
        print(f"campaign-mock: API keys: {', '.join(assembled.api_keys)}", flush=True)
    else:
        print(
            f"campaign-mock: API key: {DEMO_API_KEY} (the documented demo key; set --api-key for your own)", flush=True
        )
    admin = f"; admin API at {root}/__admin" if settings.admin else ""
    print(f"campaign-mock: spec at {root}/openapi.yaml, docs at {root}/docs{admin}; Ctrl-C stops", flush=True)


def _open_state(settings: ServeSettings, assembled: Assembled) -> StateFile | None:
    if not settings.state_file:
        return None
    runtime = assembled.runtime
    state = StateFile(settings.state_file, runtime.service, runtime.clock, assembled.contract)
    try:
        state.check_writable()
        loaded = state.load()
    except StateFileError as exc:
        raise ConfigError(str(exc)) from exc
    print(f"campaign-mock: loaded {loaded} campaign(s) from {state.path}", flush=True)
    return state


def _final_save(state: StateFile | None) -> int:
    """The last save on the way out: 0, or 1 with one line saying what was not written."""
    if state is None:
        return 0
    try:
        print(f"campaign-mock: saved {state.stop()} campaign(s) to {state.path}", flush=True)
    except StateFileError as exc:
        print(f"campaign-mock: error: {exc}; the writes since the last save are lost", file=sys.stderr, flush=True)
        return 1
    return 0


def _serve_granian(settings: ServeSettings, assembled: Assembled) -> int:
    port = settings.port or free_port(settings.host)

    def announce() -> None:
        """The banner once the port answers, so scripts that wait for it can connect at once."""
        if wait_until_listening(settings.host, port):
            _print_banner(settings, assembled, port)

    # Read here, before granian forks its worker: a bad state file stops the start with one
    # line, and the worker inherits the loaded campaigns.
    state = _open_state(settings, assembled)

    def in_worker() -> Callable[[], None] | None:
        """In granian's worker (threads started before its fork would not survive it): start the
        state file's saver, announce the port once it answers, save the state file on the way out."""
        threading.Thread(target=announce, name="campaign-mock:banner", daemon=True).start()
        if state is None:
            return None
        state.start(settings.state_interval)
        loaded = state

        def save_on_exit() -> None:
            _final_save(loaded)

        return save_on_exit

    try:
        serve_granian(settings, assembled.app, port, in_worker)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {settings.host}:{port}: {exc.strerror or exc}") from exc
    print("campaign-mock: stopped", flush=True)
    return 0


def run_serve(args: argparse.Namespace) -> int:
    settings = resolve_settings(args.config or os.environ.get(env_name("config")), os.environ, _flags(args))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("waitress").setLevel(logging.WARNING)
    # waitress warns "Task queue depth is N" for every request that waits for a thread: routine
    # for a mock under a load test, and 12% of the GIL's time at 16 connections (py-spy).
    logging.getLogger(QUEUE_LOGGER).setLevel(logging.ERROR)
    if settings.server == "granian":
        require_granian()
    assembled = assemble(settings)
    if settings.server == "granian":
        return _serve_granian(settings, assembled)
    try:
        server = create_waitress_server(
            assembled.app,
            host=settings.host,
            port=settings.port,
            threads=settings.effective_threads(),
            limits=assembled.limits,
            render=assembled.errors.render,
        )
    except OSError as exc:
        raise ConfigError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}") from exc
    # Installed before the banner, so a signal sent as soon as it appears is handled;
    # explicitly, because a process started in the background inherits an ignored SIGINT.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    state = _open_state(settings, assembled)
    if state is not None:
        state.start(settings.state_interval)
    code = 0
    try:
        _print_banner(settings, assembled, int(getattr(server, "effective_port", settings.port)))
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        # waitress lets requests in flight finish (its workers stop after their current task).
        server.close()
        code = _final_save(state)
    print("campaign-mock: stopped", flush=True)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (ConfigError, ContractError) as exc:
        print(f"campaign-mock: error: {exc}", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
