"""Browser: an enterprise user works the Tieling case through the wizard (HTMX steps) and applies it to
the draft; a city officer sees the permit list and the versions with their differences.

The browser runs in a thread of its own (Playwright's sync API refuses a second instance in the thread
where the e2e suite's session browser lives); the test prepares and checks the database around it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import PASSWORD
from tests.e2e.conftest import CHROMIUM, screenshot
from tests.permits.conftest import permit_in, user
from totalcap.permits import services
from totalcap.permits.models import PermitItem

pytestmark = pytest.mark.e2e


def in_browser(script: Callable[[Any], Any]) -> Any:
    """Run ``script(page)`` in Debian's chromium, in a worker thread; re-raise what it raised."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need Debian's chromium at {CHROMIUM}")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    outcome: dict[str, Any] = {}

    def run() -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=CHROMIUM,
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                          "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"],
                )  # fmt: skip
                context = browser.new_context(
                    locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1400, "height": 900}
                )
                page = context.new_page()
                page.set_default_timeout(15000)
                try:
                    outcome["value"] = script(page)
                finally:
                    browser.close()
        except BaseException as exc:  # handed back to the test's thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="permits-browser")
    worker.start()
    worker.join(180)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=current-user]")


def test_wizard_and_apply_to_draft(live_server: Any, tx_world: Any) -> None:
    permit = permit_in(tx_world.e_own, "issued")
    draft = services.start_change(
        user("ent"), permit, reason="技术核定后调整许可量", fact_date=timezone.localdate()
    )
    outlet = tx_world.e_own.outlets.get(code="DW001")
    base = live_server.url

    def script(page: Any) -> dict[str, Any]:
        login(page, base, "ent")
        page.goto(f"{base}/permits/calculator/?example=tieling")
        page.wait_for_selector("[data-testid=wizard][data-step='1']")
        page.select_option("#outlet", str(outlet.pk))
        page.select_option("#pollutant", label="化学需氧量（w01018）")
        screenshot(page, "permits-wizard-step1")
        for step in range(2, 7):
            page.click("[data-testid=wizard-next]")
            page.wait_for_selector(f"[data-testid=wizard][data-step='{step}']")
        seen = {
            "daily": page.inner_text("[data-testid=r-daily]"),
            "annual": page.inner_text("[data-testid=r-annual]"),
            "steps": page.inner_text("[data-testid=steps]"),
        }
        screenshot(page, "permits-wizard-result")
        with page.expect_download() as download:
            page.click("[data-testid=export-xlsx]")
        seen["download"] = download.value.suggested_filename
        page.click("[data-testid=apply]")
        page.wait_for_selector("[data-testid=items]")
        seen["items"] = page.inner_text("[data-testid=items]")
        screenshot(page, "permits-version-after-apply")
        # a step with bad input stays on the step and names the field
        page.goto(f"{base}/permits/calculator/")
        page.fill("input[name=std_name_0]", "地方标准")
        page.fill("input[name=std_limit_0]", "-5")
        page.click("[data-testid=wizard-next]")
        page.wait_for_selector("[data-testid=wizard-errors]")
        seen["errors"] = page.inner_text("[data-testid=wizard-errors]")
        return seen

    seen = in_browser(script)
    assert seen["daily"] == "33.42 kg/d" and seen["annual"] == "6.1 t/a"
    assert "2.3322" in seen["steps"] and seen["download"].endswith(".xlsx")
    item = PermitItem.objects.get(version=draft, outlet=outlet, pollutant__code="w01018")
    assert str(item.daily_max_kg) == "33.42" and str(item.annual_t) == "6.1000"
    assert "33.42" in seen["items"] and "技术核定" in seen["items"]
    assert "standards[0].limit_mg_per_l" in seen["errors"]


def test_regulator_sees_list_versions_and_differences(live_server: Any, tx_world: Any) -> None:
    permit = permit_in(tx_world.e_own, "issued")
    draft = services.start_change(
        user("ent"), permit, reason="氨氮环评批复量调整", fact_date=timezone.localdate()
    )
    nh3 = draft.items.get(pollutant__code="w21003")
    nh3.eia_t = nh3.eia_t / 2
    services.save_item(user("ent"), nh3)
    services.transition_version(user("ent"), draft, "submit")
    base, number = live_server.url, permit.number

    def script(page: Any) -> dict[str, str]:
        login(page, base, "city")
        page.click("text=排污许可证")
        page.wait_for_selector("table")
        seen = {"list": page.inner_text("table")}
        screenshot(page, "permits-list")
        page.click(f"text={number}")
        page.wait_for_selector("[data-testid=versions]")
        seen["versions"] = page.inner_text("[data-testid=versions]")
        screenshot(page, "permits-detail")
        page.click("[data-testid=open-version]")
        page.wait_for_selector("[data-testid=diff]")
        seen["diff"] = page.inner_text("[data-testid=diff]")
        page.click("[data-testid=do-accept]")
        page.wait_for_selector("[data-testid=version-status]")
        seen["status"] = page.inner_text("[data-testid=version-status]")
        screenshot(page, "permits-version-diff")
        return seen

    seen = in_browser(script)
    assert number in seen["list"] and "第2版" in seen["versions"]
    assert "氨氮" in seen["diff"] and seen["status"] == "已受理"
    draft.refresh_from_db()
    assert draft.status == "accepted"
