"""Permits fixtures: permits of the two test enterprises driven through the life cycle by services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from totalcap.permits import services
from totalcap.permits.models import Permit, PermitItem, PermitVersion
from totalcap.registry.models import Enterprise, Pollutant

TIELING = {
    "standards": [
        {"name": "DB21/1627-2008 辽宁省污水综合排放标准", "level": "local", "limit_mg_per_l": 50},
        {"name": "GB 13457-92 肉类加工工业水污染物排放标准", "level": "industry", "limit_mg_per_l": 70},
    ],
    "benchmark_m3_per_t": 10,
    "annual_production_t": 15000,
    "long_term_mean_mg_per_l": 25,
    "candidate_annual_t": {"monitoring": 9.0, "survey": 6.1},
    "history_complies": True,
    "selection": "median",
    "cv": 0.71,
}

#: The steps from a fresh draft to each version state, with the user who performs each.
PATH = [
    ("submit", "ent", "submitted"),
    ("accept", "county", "accepted"),
    ("start_review", "county", "under_review"),
    ("approve", "city", "approved"),
    ("issue", "city", "issued"),
]


def user(name: str) -> Any:
    from totalcap.accounts.models import User

    return User.objects.get(username=name)


def other(name: str) -> str:
    """The user who plays ``name``'s part for e_other (姜堰区, also in 泰州市)."""
    return {"ent": "ent_other", "county": "county_other", "city": "city"}[name]


def add_items(version: PermitVersion) -> None:
    e = version.permit.enterprise
    water = e.outlets.get(code="DW001")
    for code, eia in (("w01018", "50"), ("w21003", "5")):
        services.save_item(
            user("ent") if e.jurisdiction.code == "321202" else user("ent_other"),
            PermitItem(version=version, outlet=water, pollutant=Pollutant.objects.get(code=code), eia_t=Decimal(eia),
                       monitoring_frequency="自动监测"),
        )  # fmt: skip


def applicant(e: Enterprise) -> str:
    return "ent" if e.jurisdiction.code == "321202" else "ent_other"


def actor_for(name: str, e: Enterprise) -> Any:
    own = e.jurisdiction.code == "321202"
    return user(name if own else other(name))


ORDER = ["draft", "submitted", "accepted", "under_review", "approved", "issued"]


def drive(version: PermitVersion, until: str) -> PermitVersion:
    """Apply the PATH steps from the version's state until it reaches ``until``."""
    e = version.permit.enterprise
    start = ORDER.index("draft" if version.status == "returned" else version.status)
    for action, who, _state in PATH[start : ORDER.index(until)]:
        version = services.transition_version(actor_for(who, e), version, action)
    assert version.status == until, version.status
    return version


def permit_in(e: Enterprise, version_state: str = "issued") -> Permit:
    permit = services.open_application(actor_for("ent", e), e)
    version = permit.versions.get()
    add_items(version)
    if version_state != "draft":
        drive(version, version_state)
    permit.refresh_from_db()
    return permit


@pytest.fixture
def issued(world: Any) -> Permit:
    """A valid permit of e_own (version 1 issued)."""
    return permit_in(world.e_own, "issued")


@pytest.fixture
def issued_other(world: Any) -> Permit:
    return permit_in(world.e_other, "issued")
