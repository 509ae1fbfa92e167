"""In the browser: a county officer opens an outlet's charts, the validity calendar and an hour's
drill-down (ECharts renders from the API; the calendar marks the substituted hour)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot
from tests.monitoring.conftest import at, feed, feed_hours, recompute, water

pytestmark = pytest.mark.e2e


def test_outlet_charts_calendar_and_drill_down(live_server: Any, tx_world: Any, page: Any) -> None:
    outlet = water(tx_world.e_own)
    feed_hours(outlet, "w00000", at(14), [10] * 24)
    feed_hours(outlet, "w01018", at(14), [40] * 10 + [None] + [42] * 13)
    feed(outlet, "w01018", at(14, 9), [40] * 50 + [41] * 10, flags=["N"] * 50 + ["C"] * 10)
    recompute(outlet, at(14), at(15))

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "county")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=current-user]")

    page.goto(f"{live_server.url}/monitoring/")
    assert outlet.name in page.inner_text("[data-testid=outlet-table]")
    page.click(f"text={outlet.code} {outlet.name}")
    page.wait_for_selector("[data-testid=chart] canvas")
    page.fill("input[name=start]", "2026-10-14")
    page.fill("input[name=end]", "2026-10-15")
    page.select_option("select[name=pollutant]", "w01018")
    page.click("[data-testid=chart] button")
    page.wait_for_function("document.querySelector('.tc-status').textContent.includes('24 个数据点')")
    screenshot(page, "monitoring-outlet-chart")

    page.goto(f"{live_server.url}/monitoring/outlet/{outlet.pk}/calendar/?month=2026-10&pollutant=w01018")
    calendar = page.locator("[data-testid=calendar]")
    assert calendar.locator("td.tc-valid").count() == 23
    assert calendar.locator("td.tc-sub").count() == 1  # the missing 10:00 hour, substituted
    screenshot(page, "monitoring-calendar")

    page.goto(f"{live_server.url}/monitoring/outlet/{outlet.pk}/hour/w01018/2026101409/")
    minutes = page.inner_text("[data-testid=minutes]")
    assert "分钟数据（60 条）" in minutes and "/ingest/rawframe/1000/" in page.content()
    assert "校准" in page.inner_text("[data-testid=hour-value]") or "正常" in page.inner_text(
        "[data-testid=hour-value]"
    )
    screenshot(page, "monitoring-hour-drill-down")
