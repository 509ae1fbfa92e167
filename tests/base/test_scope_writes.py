"""Writes that would move an object out of the editor's scope are refused and rolled back."""

from __future__ import annotations

from typing import Any

import pytest
from django.forms.models import model_to_dict

from totalcap.base import services
from totalcap.base.exceptions import ScopeViolation
from totalcap.base.models import DomainEvent
from totalcap.registry.models import Enterprise, Jurisdiction


def test_service_rolls_back_a_move_out_of_scope(world: Any) -> None:
    county = world.user("county")
    enterprise = Enterprise.objects.get(pk=world.e_own.pk)
    before = model_to_dict(Enterprise.objects.get(pk=enterprise.pk))
    events_before = DomainEvent.objects.count()
    enterprise.jurisdiction = Jurisdiction.objects.get(code="321204")
    with pytest.raises(ScopeViolation):
        services.save_object(county, enterprise)
    assert model_to_dict(Enterprise.objects.get(pk=enterprise.pk)) == before
    assert DomainEvent.objects.count() == events_before


def test_ui_refuses_a_jurisdiction_outside_scope(world: Any, client_for: Any) -> None:
    client = client_for("county")
    url = f"/registry/enterprise/{world.e_own.pk}/edit/"
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data["jurisdiction"] = Jurisdiction.objects.get(code="321204").pk
    response = client.post(url, data)
    assert response.status_code == 200
    assert "jurisdiction" in response.context["form"].errors
    assert Enterprise.objects.get(pk=world.e_own.pk).jurisdiction.code == "321202"


def test_api_refuses_a_jurisdiction_outside_scope(world: Any, api_for: Any) -> None:
    other = Jurisdiction.objects.get(code="321204").pk
    response = api_for("county").patch(
        f"/api/registry/enterprise/{world.e_own.pk}/", {"jurisdiction": other}, format="json"
    )
    assert response.status_code == 400
    assert "jurisdiction" in response.json()["errors"]
    assert Enterprise.objects.get(pk=world.e_own.pk).jurisdiction.code == "321202"


def test_city_may_move_within_its_city(world: Any, api_for: Any) -> None:
    target = Jurisdiction.objects.get(code="321204").pk
    response = api_for("city").patch(
        f"/api/registry/enterprise/{world.e_own.pk}/", {"jurisdiction": target}, format="json"
    )
    assert response.status_code == 200
    assert Enterprise.objects.get(pk=world.e_own.pk).jurisdiction.code == "321204"


def test_enterprise_user_never_reads_another_enterprise(world: Any, client_for: Any, api_for: Any) -> None:
    other = world.e_other
    outlet = other.outlets.first()
    logger = outlet.loggers.first()
    ui = client_for("ent")
    for url in (
        f"/registry/enterprise/{other.pk}/",
        f"/registry/outlet/{outlet.pk}/",
        f"/registry/datalogger/{logger.pk}/",
        f"/registry/enterprisecontact/{other.contacts.first().pk}/",
    ):
        assert ui.get(url).status_code == 404, url
    listing = ui.get(f"/registry/outlet/?enterprise={other.pk}")
    assert other.name not in listing.content.decode()
    api = api_for("ent")
    assert api.get(f"/api/registry/enterprise/{other.pk}/").status_code == 404
    filtered = api.get(f"/api/registry/outlet/?enterprise={other.pk}")
    assert filtered.status_code == 400 or filtered.json()["results"] == []
    searched = api.get(f"/api/registry/enterprise/?q={other.name}")
    assert searched.json()["results"] == []
    mine = api.get("/api/registry/enterprise/").json()["results"]
    assert [row["id"] for row in mine] == [world.e_own.pk]


def test_om_contractor_sees_served_enterprises_only(world: Any, api_for: Any) -> None:
    ids = {row["id"] for row in api_for("om").get("/api/registry/enterprise/").json()["results"]}
    assert ids == {world.e_own.pk}


def test_auditor_reads_but_cannot_write(world: Any, api_for: Any) -> None:
    api = api_for("auditor")
    assert api.get(f"/api/registry/enterprise/{world.e_own.pk}/").status_code == 200
    assert (
        api.patch(f"/api/registry/enterprise/{world.e_own.pk}/", {"name": "x"}, format="json").status_code
        == 403
    )
