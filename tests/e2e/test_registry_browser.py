"""A county officer logs in, sees only the county's enterprises, edits a contact, sees the history."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot
from totalcap.registry.models import Enterprise

pytestmark = pytest.mark.e2e


def test_county_officer_edits_a_contact_and_sees_it_in_history(
    live_server: Any, tx_world: Any, page: Any
) -> None:
    own, other = tx_world.e_own, tx_world.e_other
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "county")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=current-user]")
    assert page.inner_text("[data-testid=count-enterprises]") == "1"

    page.click("text=排污单位")
    page.wait_for_selector("table")
    table = page.inner_text("table")
    visible_names = set(Enterprise.objects.filter(jurisdiction__code="321202").values_list("name", flat=True))
    assert own.name in table and other.name not in table
    assert all(name in table for name in visible_names)
    screenshot(page, "county-enterprise-list")

    page.click(f"text={own.name}")
    page.wait_for_selector("[data-testid=contacts]")
    contact = own.contacts.get(is_primary=True)
    page.click(f"[data-testid=edit-contact-{contact.pk}]")
    page.fill("#id_phone", "bad-number")
    page.click("button[type=submit]")
    assert "电话号码格式不正确" in page.inner_text("[data-field=phone]")
    page.fill("#id_phone", "13900001111")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=history]")
    assert "13900001111" in page.inner_text("[data-testid=history]")

    page.goto(f"{live_server.url}{own.get_absolute_url()}")
    history = page.inner_text("[data-testid=history]")
    assert "13812345678" in history and "13900001111" in history and "联系人" in history
    screenshot(page, "county-enterprise-history")

    response = page.goto(f"{live_server.url}{other.get_absolute_url()}")
    assert response is not None and response.status == 404
