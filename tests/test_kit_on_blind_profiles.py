"""Profiles written blind (by someone who read only the README, from a vendor's public API
reference and SDK) are judged without false alarms: the mock serving such a profile is
conformant to it. SendGrid's Single Sends (tests/blind_profiles/sendgrid.yaml) stores its
schedule time from the documented body of the move the kit waits on, which once made the
kit predict a clock move the mock rightly did not make."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaign_mock.conformance.runner import CheckRequest, run_check
from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer

BLIND = Path(__file__).parent / "blind_profiles"
KEY = "SG.blind-key"


@pytest.mark.parametrize("profile", sorted(path.name for path in BLIND.glob("*.yaml")))
def test_the_mock_of_a_blind_profile_is_conformant_to_it(profile: str) -> None:
    spec = str(BLIND / profile)
    assembled = assemble(ServeSettings(spec=spec, api_keys=[KEY], log_requests=False, port=0))
    with ThreadedServer(assembled.app, threads=8) as server:
        request = CheckRequest(
            spec=spec,
            base_url=server.base_url,
            api_key=KEY,
            only=("lifecycle", "updates", "listing", "headers", "errors"),
            timer_step_seconds=0.6,
        )
        report = run_check(request, progress=lambda line: None)
    assert report.conformant, [(o.rule, o.operation, o.expected, o.received[:200]) for o in report.failures][:5]
