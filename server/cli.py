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
from campaign_mock.contract.security import client_placement
from campaign_mock.contract.tenancy import demo_keys, split_key
from campaign_mock.server.run.assembly import Assembled, assemble
from campaign_mock.server.run.config import (
    BY_KEY,
    SETTINGS,
    ConfigError,
    ServeSettings,
    Setting,
    env_name,
    resolve_settings,
)
from campaign_mock.server.run.granian_runner import free_port, require_granian, serve_granian, wait_until_listening
from campaign_mock.server.run.one_line_parser import OneLineParser
from campaign_mock.server.run.waitress_runner import create_waitress_server
from campaign_mock.server.traffic.redaction import mask_key_entry

USAGE_ERROR = 2

QUEUE_LOGGER = "waitress.queue"


def _help(setting: Setting) -> str:
    """What ``--help`` says of a setting: what it does, its values, its default, its other spellings."""
    values = f" Values: {setting.values}." if setting.values else ""
    env = f"; env {env_name(setting.key)}" if setting.env else ""
    return f"{setting.help}.{values} Default: {setting.shown_default()}. Config key: {setting.key}{env}."


def _metavar(setting: Setting) -> str:
    """``{key,operation,global}`` for a choice, the short values themselves, else a name."""
    choices = [part.strip() for part in setting.values.split("|")]
    if len(choices) > 1 and all(choice and " " not in choice for choice in choices):
        return "{" + ",".join(choices) + "}"
    if setting.values and len(setting.values) <= 20 and " " not in setting.values:
        return setting.values
    return setting.key.upper()


def _add_serve(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve a contract as a stateful mock",
        description=(
            "Serve a campaign contract as a stateful mock. Settings come from, in rising precedence: "
            "built-in defaults, --config FILE (paths in it are relative to it), CAMPAIGN_MOCK_* environment "
            "variables, flags. Config-only keys: error_formats, faults."
        ),
    )
    serve.add_argument(
        "--config", metavar="FILE", help=f"YAML file of settings (keys as listed below); env {env_name('config')}."
    )
    for setting in SETTINGS:
        option = setting.option
        if option is None:
            continue
        if setting.switch is not None:
            serve.add_argument(
                option, dest=setting.key, action="store_const", const=setting.switch, help=_help(setting)
            )
        elif setting.repeat:
            serve.add_argument(
                option, dest=setting.key, action="append", metavar=setting.key.upper()[:-1], help=_help(setting)
            )
        else:
            serve.add_argument(option, dest=setting.key, metavar=_metavar(setting), help=_help(setting))
    serve.set_defaults(run=run_serve)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(  # its subcommands' parsers are OneLineParsers too: every mistake is one line
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
    print(_keys_line(settings, assembled), flush=True)
    admin = f"; admin API at {root}/__admin, live page at {root}/__admin/ui" if settings.admin else ""
    print(_store_line(settings, assembled), flush=True)
    print(f"campaign-mock: spec at {root}/openapi.yaml, docs at {root}/docs{admin}; Ctrl-C stops", flush=True)


def _keys_line(settings: ServeSettings, assembled: Assembled) -> str:
    """Which keys open the API and how a client sends one, as the contract says; or that
    nothing needs one."""
    document = assembled.contract.document
    placement = client_placement(document)
    if placement is None:
        unused = "; the --api-key keys are not asked for" if settings.api_keys else ""
        return f"campaign-mock: no credentials needed (the spec declares no security){unused}"
    send = f"; send it: {placement.curl()}"
    if settings.api_keys:  # the user's own keys: shown masked, as in every log and journal line
        return f"campaign-mock: API keys: {', '.join(map(mask_key_entry, assembled.api_keys))}{send}"
    if len(assembled.api_keys) > 1:  # the spec's documented demo keys: public, shown as they are
        return f"campaign-mock: API keys: {', '.join(assembled.api_keys)} (the spec's x-demo-keys){send}"
    entry = assembled.api_keys[0]
    key = split_key(entry)[0]
    whose = "the default demo key"
    if demo_keys(document):
        whose = "the spec's x-demo-keys" if entry == key else f"{entry!r} of the spec's x-demo-keys"
    return f"campaign-mock: API key: {key} ({whose}; set --api-key for your own){send}"


def _store_line(settings: ServeSettings, assembled: Assembled) -> str:
    """Which store keeps the state, what it holds, and how many processes serve it."""
    store = assembled.store
    backend = store.backend
    held = ""
    if backend.kind != "memory":
        held = f", {assembled.runtime.default.service.count()} campaign(s) in the default sandbox"
    workers = f"{settings.workers} worker{'s' if settings.workers > 1 else ''}"
    line = f"campaign-mock: store {backend.describe()}{held}; {workers}"
    if store.migrated_from is not None:
        line += (
            f"\ncampaign-mock: migrated {len(store.migrating)} campaign(s) from the JSON state file, "
            f"kept as {store.migrated_from}"
        )
    return line


def _warn_unused(settings: ServeSettings) -> None:
    if settings.state_interval != ServeSettings.state_interval:
        logging.getLogger("campaign_mock.config").warning(
            "state_interval is no longer used: with --state-file (sqlite) every write is committed before its answer"
        )


def _serve_granian(settings: ServeSettings, assembled: Assembled) -> int:
    port = settings.port or free_port(settings.host)

    def announce() -> None:
        """The banner once the port answers, so scripts that wait for it can connect at once."""
        if wait_until_listening(settings.host, port):
            _print_banner(settings, assembled, port)

    def in_worker() -> Callable[[], None] | None:
        """In each granian worker: close the store on the way out."""
        return assembled.store.backend.close

    # In granian's parent, which serves nothing but outlives the workers: one banner however many.
    threading.Thread(target=announce, name="campaign-mock:banner", daemon=True).start()

    try:
        serve_granian(settings, assembled.app, port, in_worker, assembled.errors.render)
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
    _warn_unused(settings)
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
    code = 0
    try:
        _print_banner(settings, assembled, int(getattr(server, "effective_port", settings.port)))
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        # waitress lets requests in flight finish (its workers stop after their current task).
        server.close()
        assembled.store.backend.close()
    print("campaign-mock: stopped", flush=True)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exited:  # --help, --version, or a usage error already said in one line
        return int(exited.code or 0)
    try:
        return int(args.run(args))
    except (ConfigError, ContractError) as exc:
        print(f"campaign-mock: error: {exc}", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
