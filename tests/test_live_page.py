"""The live page (``/__admin/ui``) in headless Chromium, against a real server: it shows what the
API did, its buttons move the mock's clock, and a fault set from its form meets the next call.

Every wait is bounded (``WAIT_SECONDS``); the page polls once a second.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from campaign_mock.server.pytest_plugin import RunningMock
from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer
from tests.chromium import browser

WAIT_SECONDS = 20


@pytest.fixture
def page(campaign_mock: RunningMock) -> Iterator[Any]:
    with browser() as driver:
        driver.get(f"{campaign_mock.server_url}/sandboxes/{campaign_mock.sandbox}/__admin/ui")
        yield driver


def wait_for(driver: Any, condition: Any, what: str) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait  # noqa: PLC0415

    return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.2).until(condition, message=what)


def text_of(driver: Any, css: str) -> str:
    """The text of the first element ``css`` selects, read in one step in the page (it redraws
    its tables every round, so a handle found a moment ago may be gone)."""
    script = "const found = document.querySelector(arguments[0]); return found ? found.innerText : '';"
    return str(driver.execute_script(script, css)).strip()


def click(driver: Any, css: str) -> None:
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    driver.find_element(By.CSS_SELECTOR, css).click()


def test_the_page_shows_a_campaign_created_over_the_api_and_its_clock_button_activates_a_scheduled_one(
    campaign_mock: RunningMock, page: Any
) -> None:
    campaign_mock.admin.set_clock(now="2026-12-01T09:00:00Z", frozen=True)
    fields = {"name": "Seen live", "start_at": "2026-12-01T10:00:00Z", "end_at": "2026-12-01T18:00:00Z"}
    made = requests.post(
        f"{campaign_mock.base_url}/campaigns", json=fields, headers=campaign_mock.auth_headers, timeout=10
    )
    campaign_id = made.json()["id"]
    activated = requests.post(
        f"{campaign_mock.base_url}/campaigns/{campaign_id}/activate", headers=campaign_mock.auth_headers, timeout=10
    )
    assert activated.json()["status"] == "scheduled"
    row = f'tr[data-id="{campaign_id}"] .campaign-status'
    wait_for(page, lambda driver: text_of(driver, row) == "scheduled", "the created campaign, scheduled")
    assert "Seen live" in text_of(page, f'tr[data-id="{campaign_id}"]')
    assert text_of(page, "#clock-now") == "2026-12-01T09:00:00Z"
    assert "activateCampaign" in text_of(page, "#journal")

    click(page, "#clock-advance")  # by the form's 3600 s: past start_at
    wait_for(page, lambda driver: text_of(driver, row) == "active", "the campaign active after the clock moved")
    assert text_of(page, "#clock-now") == "2026-12-01T10:00:00Z"
    assert text_of(page, '#by-status [data-state="active"]') == "active 1"
    assert campaign_mock.admin.clock()["now"] == "2026-12-01T10:00:00Z"

    page.execute_script("document.getElementById('clock-set-value').value = '2026-12-01T18:00:00Z';")
    click(page, "#clock-set")  # past end_at: the end timer completes it
    wait_for(page, lambda driver: text_of(driver, row) == "completed", "the campaign completed at the set time")
    click(page, "#clock-unfreeze")
    wait_for(page, lambda driver: text_of(driver, "#clock-frozen") == "(running)", "the clock running")
    assert campaign_mock.admin.clock()["frozen"] is False


def test_a_fault_set_from_the_page_meets_the_next_api_call(campaign_mock: RunningMock, page: Any) -> None:
    from selenium.webdriver.common.by import By  # noqa: PLC0415
    from selenium.webdriver.support.ui import Select  # noqa: PLC0415

    wait_for(
        page, lambda driver: len(driver.find_elements(By.CSS_SELECTOR, "#fault-operation option")) > 1, "operations"
    )
    Select(page.find_element(By.ID, "fault-operation")).select_by_value("listCampaigns")
    status = page.find_element(By.ID, "fault-error-status")
    status.clear()
    status.send_keys("503")
    click(page, "#fault-set")
    wait_for(page, lambda driver: "listCampaigns" in text_of(driver, "#faults"), "the fault in the page's table")
    assert campaign_mock.admin.faults()["faults"][0]["operation"] == "listCampaigns"

    listed = requests.get(f"{campaign_mock.base_url}/campaigns", headers=campaign_mock.auth_headers, timeout=10)
    assert listed.status_code == 503
    wait_for(page, lambda driver: "503" in text_of(driver, "#journal .status-5"), "the faulted call in the journal")

    click(page, "#faults-clear")
    wait_for(page, lambda driver: text_of(driver, "#faults") == "none", "no fault left")
    assert requests.get(f"{campaign_mock.base_url}/campaigns", headers=campaign_mock.auth_headers, timeout=10).ok


def test_the_page_shows_the_client_report(campaign_mock: RunningMock, page: Any) -> None:
    assert requests.get(
        f"{campaign_mock.base_url}/campaign", headers=campaign_mock.auth_headers, timeout=10
    ).status_code
    wait_for(page, lambda driver: text_of(driver, "#report-verdict") == "rules broken", "the report's verdict")
    assert "unknown-route: 1" in text_of(page, '[data-rule="unknown-route"]')


def test_the_page_asks_for_the_admin_key_and_then_works_with_it() -> None:
    settings = ServeSettings(admin_key="page-secret", log_requests=False, port=0)
    with ThreadedServer(assemble(settings).app) as server, browser() as driver:
        from selenium.webdriver.common.by import By  # noqa: PLC0415

        driver.get(f"{server.base_url}/__admin/ui")
        key_form = driver.find_element(By.ID, "key-form")
        wait_for(driver, lambda _driver: key_form.is_displayed(), "the key form after a 401")
        assert text_of(driver, "#clock-now") == "?"
        driver.find_element(By.ID, "admin-key").send_keys("page-secret")
        driver.find_element(By.CSS_SELECTOR, "#key-form button").click()
        wait_for(driver, lambda _driver: text_of(driver, "#clock-now") != "?", "the clock, read with the key")
        assert not key_form.is_displayed()
        assert requests.get(f"{server.base_url}/__admin/clock", timeout=10).status_code == 401


def test_the_page_loads_nothing_from_elsewhere_and_holds_no_data() -> None:
    settings = ServeSettings(admin_key="page-secret", log_requests=False, port=0)
    with ThreadedServer(assemble(settings).app) as server:
        answer = requests.get(f"{server.base_url}/__admin/ui", timeout=10)
    assert answer.status_code == 200  # without the key: the page is a shell, its calls need the key
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    assert "connect-src 'self'" in answer.headers["Content-Security-Policy"]
    assert not re.search(r"(src|href)=[\"'](https?:)?//", answer.text)


def test_choosing_a_sandbox_on_the_page_shows_that_sandboxs_campaigns(campaign_mock: RunningMock, page: Any) -> None:
    from selenium.webdriver.common.by import By  # noqa: PLC0415
    from selenium.webdriver.support.ui import Select  # noqa: PLC0415

    other = f"{campaign_mock.sandbox}-seen"
    campaign_mock.admin.for_sandbox(None).create_sandbox(other)
    try:
        made = requests.post(
            f"{campaign_mock.server_url}/sandboxes/{other}/campaigns",
            json={"name": "In the other sandbox"},
            headers=campaign_mock.auth_headers,
            timeout=10,
        ).json()
        listed = "return [...document.querySelectorAll('#sandbox option')].map((option) => option.value);"
        wait_for(page, lambda driver: other in driver.execute_script(listed), "the other sandbox in the chooser")
        Select(page.find_element(By.ID, "sandbox")).select_by_value(other)
        row = f'tr[data-id="{made["id"]}"]'
        wait_for(page, lambda driver: "In the other sandbox" in text_of(driver, row), "the other sandbox's campaign")
        assert f"sandbox {other}" in text_of(page, "#status-line")
    finally:
        campaign_mock.admin.for_sandbox(None).drop_sandbox(other)
