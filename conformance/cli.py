"""``campaign-mock check``: the kit's command line. Exit 0 conformant, 1 not, 2 usage error."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from campaign_mock.conformance.context import DEFAULT_SEED
from campaign_mock.conformance.html_report import write_html
from campaign_mock.conformance.report import render_text, write_junit
from campaign_mock.conformance.results import UsageError
from campaign_mock.conformance.runner import GROUPS, CheckRequest, run_check
from campaign_mock.contract.bounds import Bounded
from campaign_mock.contract.tenancy import split_key

CONFORMANT, NOT_CONFORMANT, USAGE = 0, 1, 2
MAX_EXAMPLES = Bounded(1, 100_000)
WORKERS = Bounded(1, 64)
TIMER_STEP = Bounded(0.2, 600, whole=False)


def _key_from_environment() -> str | None:
    """CAMPAIGN_MOCK_API_KEY, else the first of CAMPAIGN_MOCK_API_KEYS: the one environment
    that configures ``serve`` configures ``check`` against it too."""
    single = os.environ.get("CAMPAIGN_MOCK_API_KEY")
    if single:
        return single
    listed = [part.strip() for part in os.environ.get("CAMPAIGN_MOCK_API_KEYS", "").split(",") if part.strip()]
    return split_key(listed[0])[0] if listed else None  # KEY@WORKSPACE#SCOPES -> KEY


def _groups(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected 'Name: value', got {text!r}")
    return name.strip(), value.strip()


def add_check_parser(commands: Any) -> None:
    check = commands.add_parser(
        "check",
        help="check that an implementation honours a contract, rule by rule",
        description=(
            "Check any implementation of a campaign contract: schemathesis' phases and checks, plus "
            "the contract's lifecycle, auth, error, listing and rate-limit rules. "
            "Exit status: 0 conformant, 1 not conformant, 2 usage or connection error."
        ),
    )
    check.add_argument(
        "--spec",
        required=True,
        metavar="PATH|NAME|URL",
        help=(
            "the contract: a file, a URL such as http://HOST/openapi.yaml, or a bundled name: campaigns, "
            "altcraft, brevo, mailchimp, ocamba, sevenheaven, tenant, woodpecker"
        ),
    )
    check.add_argument(
        "--base-url",
        required=True,
        metavar="URL",
        help=(
            "where the implementation serves the spec's paths, e.g. http://127.0.0.1:8080 "
            "(the spec's base path is added when missing)"
        ),
    )
    check.add_argument(
        "--api-key",
        metavar="KEY",
        default=_key_from_environment(),
        help=(
            "a valid key, sent where the spec's security scheme says (bearer, HTTP Basic password, "
            "API-key header or query); "
            "env CAMPAIGN_MOCK_API_KEY, or the first key of CAMPAIGN_MOCK_API_KEYS (serve's spelling) "
            "(default: none)"
        ),
    )
    check.add_argument(
        "-H",
        "--header",
        dest="headers",
        action="append",
        type=_header,
        default=[],
        metavar="'NAME: VALUE'",
        help="extra header on every request; repeatable",
    )
    check.add_argument(
        "--junit-xml", metavar="FILE", help="also write JUnit XML: one test case per rule and operation (default: none)"
    )
    check.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        metavar="N",
        help="seed for schemathesis' data generation, so runs repeat (default: %(default)s)",
    )
    check.add_argument(
        "--max-examples",
        type=MAX_EXAMPLES.argument,
        default=20,
        metavar=MAX_EXAMPLES.range,
        help="examples per operation in schemathesis' fuzzing phase (default: %(default)s)",
    )
    check.add_argument(
        "--only",
        type=_groups,
        default=(),
        metavar="GROUPS",
        help=f"comma-separated groups to run: {', '.join(GROUPS)} (default: all)",
    )
    check.add_argument(
        "--skip", type=_groups, default=(), metavar="GROUPS", help="comma-separated groups to leave out (default: none)"
    )
    check.add_argument(
        "--workers",
        type=WORKERS.argument,
        default=1,
        metavar=WORKERS.range,
        help=(
            "schemathesis workers for the schema group; the kit's own groups run one request at a time "
            "(default: %(default)s)"
        ),
    )
    check.add_argument(
        "--timer-step",
        type=TIMER_STEP.argument,
        default=2.0,
        metavar=TIMER_STEP.range,
        help=(
            "seconds between the times the lifecycle group gives a campaign to watch clock-driven moves; "
            "raise it for a slow or distant server (default: %(default)s)"
        ),
    )
    check.add_argument(
        "--tenant",
        metavar="SLUG",
        help=(
            "the workspace/tenant --api-key belongs to, for specs with x-tenancy "
            "(default: the one the spec's create example names)"
        ),
    )
    check.add_argument(
        "--other-api-key",
        metavar="KEY",
        default=os.environ.get("CAMPAIGN_MOCK_OTHER_API_KEY"),
        help=(
            "a valid key of another tenant: enables the auth group's tenancy rules (another tenant's "
            "campaigns answer 404); env CAMPAIGN_MOCK_OTHER_API_KEY"
        ),
    )
    check.add_argument(
        "--sandbox",
        default="off",
        metavar="auto|off|NAME",
        help=(
            "where the kit works: off, the base URL as given (other traffic there cannot make a rule fail: "
            "the listing rules measure again before they blame); auto, a sandbox of its own "
            "(/sandboxes/kit-RANDOM, dropped at the end) where the target serves sandboxes as "
            "campaign-mock does, for exact totals on a mock a CI fleet shares; NAME, that sandbox, kept "
            "(default: %(default)s)"
        ),
    )
    check.add_argument(
        "--allow-unchecked",
        action="store_true",
        help=(
            "let a run in which a rule group could check nothing (no example and no body the kit could make, "
            "a state it cannot reach, ...) still be conformant; without it such a run exits 1 naming what "
            "was not checked (default: off)"
        ),
    )
    check.add_argument(
        "--html",
        metavar="FILE",
        help="also write a self-contained HTML page: verdict, coverage, state x action matrix, failures "
        "(default: none)",
    )
    check.set_defaults(run=run_check_command)


def run_check_command(args: argparse.Namespace) -> int:
    request = CheckRequest(
        spec=args.spec,
        base_url=args.base_url,
        api_key=args.api_key,
        headers=dict(args.headers),
        seed=args.seed,
        max_examples=args.max_examples,
        workers=args.workers,
        only=args.only,
        skip=args.skip,
        timer_step_seconds=args.timer_step,
        tenant=args.tenant,
        other_api_key=args.other_api_key,
        allow_unchecked=args.allow_unchecked,
        sandbox=args.sandbox,
    )
    try:
        report = run_check(request)
    except UsageError as exc:
        print(f"campaign-mock: error: {exc}", file=sys.stderr)
        return USAGE
    print(render_text(report), flush=True)
    if args.junit_xml:
        write_junit(report, args.junit_xml)
    if args.html:
        write_html(report, args.html)
    if report.conformant:
        return CONFORMANT
    # The target died before anything failed: no verdict, a usage-level error (the report stays).
    return USAGE if report.stopped is not None and not report.failures else NOT_CONFORMANT
