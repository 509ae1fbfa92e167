"""Shared fixtures: a small world loaded once per session into the test database.

Jurisdictions: 江苏省 → 泰州市 → 海陵区 / 姜堰区, and 南京市 (another city). Enterprises: one in 海陵
(``e_own``) and one in 姜堰 (``e_other``), each with a contact, a water outlet with a
total-control logger and a valve, an air outlet with a logger, and a camera. Users: one per role
and binding, plus ``noperm`` (a county user stripped of every permission).

Every test runs in a transaction that is rolled back, so the world is the same for all of them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from rest_framework.test import APIClient

from tests.e2e.conftest import CHROMIUM
from totalcap.accounts.choices import Role
from totalcap.accounts.models import User
from totalcap.registry.models import (
    Camera,
    DataLogger,
    Enterprise,
    EnterpriseContact,
    Industry,
    Jurisdiction,
    Outlet,
    Pollutant,
    Valve,
)
from totalcap.registry.services import load_reference_data
from totalcap.registry.validators import make_credit_code

PASSWORD = "Test-Passw0rd!"


def _enterprise(
    code: str, body: str, name: str, jurisdiction: Jurisdiction, industry: Industry
) -> Enterprise:
    e = Enterprise.objects.create(
        credit_code=make_credit_code("91", code, body),
        name=name,
        short_name=name[:8],
        address="江苏省泰州市",
        longitude="119.900000",
        latitude="32.450000",
        industry=industry,
        jurisdiction=jurisdiction,
    )
    EnterpriseContact.objects.create(
        enterprise=e, name="张三", title="环保负责人", phone="13812345678", is_primary=True
    )
    water = Outlet.objects.create(enterprise=e, code="DW001", name="废水总排口", medium="water")
    air = Outlet.objects.create(
        enterprise=e, code="DA001", name="锅炉烟囱", medium="air", source_type="燃煤锅炉"
    )
    lw = DataLogger.objects.create(
        mn=f"{code}000000000000000001"[:24], outlet=water, password="123456", is_total_control=True
    )
    lw.pollutants.set(Pollutant.objects.filter(code__in=["w00000", "w01018", "w21003"]))
    la = DataLogger.objects.create(
        mn=f"{code}000000000000000002"[:24], outlet=air, password="123456", system_code="31"
    )
    la.pollutants.set(Pollutant.objects.filter(code__in=["a00000", "a21026", "a21002", "a19001"]))
    Valve.objects.create(outlet=water, logger=lw, code="V01", name="总排口阀门")
    Camera.objects.create(enterprise=e, outlet=water, code="CAM1", name="站房门禁摄像头")
    return e


def _user(username: str, role: str, **binding: Any) -> User:
    served = binding.pop("served", None)
    user = User(username=username, role=role, full_name=username, **binding)
    user.set_password(PASSWORD)
    user.full_clean()
    user.save()
    if served:
        user.served_enterprises.set(served)
    return user


def build_world() -> None:
    load_reference_data()
    j = {x.code: x for x in Jurisdiction.objects.all()}
    industry = Industry.objects.get(code="2221")
    e_own = _enterprise("321202", "MA1X2Y3K", "泰州海陵测试纸业有限公司", j["321202"], industry)
    e_other = _enterprise("321204", "MA2B4C6D", "泰州姜堰测试纸业有限公司", j["321204"], industry)
    _user("admin", Role.SYSADMIN, is_staff=True, is_superuser=True)
    _user("province", Role.PROVINCE_REGULATOR, jurisdiction=j["320000"])
    _user("province_other", Role.PROVINCE_REGULATOR, jurisdiction=j["510000"])
    _user("city", Role.CITY_REGULATOR, jurisdiction=j["321200"])
    _user("city_other", Role.CITY_REGULATOR, jurisdiction=j["320100"])
    _user("county", Role.COUNTY_REGULATOR, jurisdiction=j["321202"])
    _user("county_other", Role.COUNTY_REGULATOR, jurisdiction=j["321204"])
    _user("ent", Role.ENTERPRISE, enterprise=e_own)
    _user("ent_other", Role.ENTERPRISE, enterprise=e_other)
    _user("om", Role.OM_CONTRACTOR, served=[e_own])
    _user("auditor", Role.AUDITOR, jurisdiction=j["321200"])
    noperm = _user("noperm", Role.COUNTY_REGULATOR, jurisdiction=j["321202"])
    noperm.groups.clear()
    Group.objects.get_or_create(name="nothing")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    from django.db import connection

    with django_db_blocker.unblock():
        # Transactional tests end with a flush (TRUNCATE); allow it on the test database only.
        with connection.cursor() as cur:
            cur.execute(
                f"ALTER DATABASE \"{connection.settings_dict['NAME']}\" SET totalcap.allow_truncate = 'on'"
            )
        connection.close()
        build_world()


def ensure_world() -> None:
    """Rebuild the world after a transactional test flushed the database."""
    if not User.objects.filter(username="county").exists():
        build_world()


@dataclass
class World:
    e_own: Enterprise
    e_other: Enterprise

    def user(self, username: str) -> User:
        return User.objects.get(username=username)


@pytest.fixture
def world(db: Any) -> World:
    return World(
        e_own=Enterprise.objects.get(jurisdiction__code="321202"),
        e_other=Enterprise.objects.get(jurisdiction__code="321204"),
    )


@pytest.fixture
def tx_world(transactional_db: Any) -> World:
    """The world, committed, for tests that need other connections or processes to see it."""
    ensure_world()
    return World(
        e_own=Enterprise.objects.get(jurisdiction__code="321202"),
        e_other=Enterprise.objects.get(jurisdiction__code="321204"),
    )


@pytest.fixture
def client_for(db: Any) -> Any:
    """``client_for("county")`` → a Django test client logged in as that user (None: anonymous)."""

    def make(username: str | None) -> Client:
        client = Client()
        if username:
            client.force_login(User.objects.get(username=username))
        return client

    return make


@pytest.fixture
def api_for(db: Any) -> Any:
    """``api_for("county")`` → a DRF API client authenticated as that user (None: anonymous)."""

    def make(username: str | None) -> APIClient:
        client = APIClient()
        if username:
            client.force_authenticate(User.objects.get(username=username))
        return client

    return make


# ------------------------------------------------------------------ browser (one per session)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(
            f"browser tests need Debian's chromium at {CHROMIUM}: run `make system-deps` (apt-get install chromium)"
        )
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--disable-sync", "--disable-quic"],
        )  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1400, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
