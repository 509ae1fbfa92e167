"""The permit life cycle through the services: every transition allowed and refused, issue, change,
renewal, re-application, suspension, revocation, cancellation, expiry; issued versions never change."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from tests.permits.conftest import ORDER, PATH, actor_for, add_items, drive, permit_in, user
from totalcap.base.exceptions import PermissionRefused, ScopeViolation, ServiceError, TransitionRefused
from totalcap.base.models import DomainEvent
from totalcap.permits import services
from totalcap.permits.models import Permit, PermitItem, PermitVersion, SpecialPeriodLimit
from totalcap.permits.policy import term_end
from totalcap.permits.transitions import PERMIT_TABLE, REPORT_TABLE, VERSION_TABLE
from totalcap.registry.models import Pollutant


def events(obj: Any) -> list[str]:
    return list(
        DomainEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def state_of(version: PermitVersion) -> str:
    return PermitVersion.objects.get(pk=version.pk).status


# --- the version (application) table ---------------------------------------------------------------

#: (from-state, action, performer) for every row of the version table; performers hold the permission.
VERSION_ROWS = [
    ("draft", "submit", "ent", "submitted"),
    ("returned", "submit", "ent", "submitted"),
    ("draft", "withdraw", "ent", "withdrawn"),
    ("returned", "withdraw", "ent", "withdrawn"),
    ("submitted", "withdraw", "ent", "withdrawn"),
    ("submitted", "accept", "county", "accepted"),
    ("submitted", "refuse", "county", "rejected"),
    ("submitted", "return", "county", "returned"),
    ("accepted", "return", "county", "returned"),
    ("under_review", "return", "county", "returned"),
    ("accepted", "start_review", "county", "under_review"),
    ("under_review", "approve", "city", "approved"),
    ("under_review", "deny", "city", "rejected"),
    ("approved", "issue", "city", "issued"),
]


def version_in(world: Any, state: str) -> PermitVersion:
    permit = permit_in(world.e_own, "draft")
    version = permit.versions.get()
    if state == "returned":
        version = drive(version, "submitted")
        return services.transition_version(user("county"), version, "return", {"reason": "材料不全"})
    return drive(version, state)


def test_the_table_lists_exactly_these_rows() -> None:
    rows = {(s, a) for s, a, _t, _p in VERSION_TABLE.rows()}
    assert rows == {(s, a) for s, a, _w, _t in VERSION_ROWS} | {("submitted", "register")}


@pytest.mark.parametrize(("state", "action", "who", "target"), VERSION_ROWS)
def test_every_version_transition_allowed(world: Any, state: str, action: str, who: str, target: str) -> None:
    version = version_in(world, state)
    result = services.transition_version(user(who), version, action, {"reason": "依据审查意见"})
    assert result.status == target
    last = DomainEvent.objects.order_by("-id").first()
    assert last is not None and last.action == action
    assert last.payload["from"] == state and last.payload["to"] == target
    assert last.actor_label == who


ALL_VERSION_ACTIONS = sorted(VERSION_TABLE.actions())


@pytest.mark.parametrize(
    "state", ["draft", "submitted", "accepted", "under_review", "approved", "issued", "returned"]
)
def test_every_action_not_in_the_table_is_refused_and_changes_nothing(world: Any, state: str) -> None:
    version = version_in(world, state)
    allowed = {a for s, a, _t, _p in VERSION_TABLE.rows() if s == state}
    for action in ALL_VERSION_ACTIONS:
        if action in allowed:
            continue
        before = PermitVersion.objects.filter(pk=version.pk).values().get()
        with pytest.raises(TransitionRefused, match="不允许执行操作"):
            services.transition_version(user("admin"), version, action, {"reason": "x"})
        assert PermitVersion.objects.filter(pk=version.pk).values().get() == before


@pytest.mark.parametrize(("state", "action", "who", "target"), VERSION_ROWS)
def test_every_version_transition_refused_without_permission_or_scope(
    world: Any, state: str, action: str, who: str, target: str
) -> None:
    version = version_in(world, state)
    before = PermitVersion.objects.filter(pk=version.pk).values().get()
    # the auditor sees the permit but holds no life-cycle permission
    with pytest.raises(PermissionRefused):
        services.transition_version(user("auditor"), version, action, {"reason": "x"})
    # the same role in another jurisdiction (or the other enterprise) is out of scope
    other = {"ent": "ent_other", "county": "county_other", "city": "city_other"}[who]
    with pytest.raises(ScopeViolation):
        services.transition_version(user(other), version, action, {"reason": "x"})
    # a role that may not do it: enterprises never accept, counties never issue, cities never submit
    wrong = {"ent": "county", "county": "ent", "city": "ent"}[who]
    with pytest.raises(PermissionRefused):
        services.transition_version(user(wrong), version, action, {"reason": "x"})
    assert PermitVersion.objects.filter(pk=version.pk).values().get() == before


@pytest.mark.parametrize("action", ["refuse", "return", "deny"])
def test_refusals_need_a_reason(world: Any, action: str) -> None:
    state = {"refuse": "submitted", "return": "accepted", "deny": "under_review"}[action]
    version = version_in(world, state)
    who = "city" if action == "deny" else "county"
    with pytest.raises(ServiceError, match="请填写原因") as info:
        services.transition_version(user(who), version, action, {"reason": "  "})
    assert info.value.field == "reason" and state_of(version) == state
    done = services.transition_version(user(who), version, action, {"reason": "排放量核算依据不足"})
    assert done.opinion == "排放量核算依据不足"


def test_submit_and_approve_need_complete_contents(world: Any) -> None:
    permit = services.open_application(user("ent"), world.e_own)
    version = permit.versions.get()
    with pytest.raises(TransitionRefused, match="尚未填写任何许可排放限值"):
        services.transition_version(user("ent"), version, "submit")
    water = world.e_own.outlets.get(code="DW001")
    services.save_item(
        user("ent"), PermitItem(version=version, outlet=water, pollutant=Pollutant.objects.get(code="w01018"))
    )
    with pytest.raises(TransitionRefused, match="主要排放口 DW001 化学需氧量 尚未确定年许可排放量"):
        services.transition_version(user("ent"), version, "submit")
    assert [t.action for t in VERSION_TABLE.available(version, user("ent"))] == ["withdraw"]


def test_issue_gives_number_validity_and_current_version(world: Any) -> None:
    permit = permit_in(world.e_own, "issued")
    version = permit.versions.get()
    today = timezone.localdate()
    assert permit.status == "valid"
    assert permit.number == f"{world.e_own.credit_code}001P"
    assert permit.valid_from == today and permit.valid_until == term_end(today)
    assert permit.valid_until == dt.date(today.year + 5, today.month, today.day) - dt.timedelta(days=1) or (
        today.month == 2 and today.day == 29
    )
    assert permit.current_version_id == version.pk and permit.first_issued_on == today
    assert permit.issuing_authority is not None and permit.issuing_authority.code == "321200"
    assert version.issued_at is not None and version.valid_until == permit.valid_until
    assert events(permit)[-1] == "issue_version"
    issue_event = (
        DomainEvent.objects.filter(object_type="permits.permit", action="issue_version").order_by("id").last()
    )
    assert issue_event is not None and issue_event.actor_label == "city"


def test_one_enterprise_one_permit(world: Any) -> None:
    permit_in(world.e_own, "draft")
    with pytest.raises(ServiceError, match="已有排污许可证") as info:
        services.open_application(user("ent"), world.e_own)
    assert info.value.field == "enterprise"
    with pytest.raises(PermissionRefused):
        services.open_application(user("county"), world.e_own)
    with pytest.raises(ScopeViolation):
        services.open_application(user("ent_other"), world.e_own)
    assert Permit.objects.filter(enterprise=world.e_own).count() == 1


def test_registration_class_registers_without_review(world: Any) -> None:
    permit = services.open_application(user("ent"), world.e_own, management_class="registration")
    version = permit.versions.get()
    version = services.transition_version(user("ent"), version, "submit")  # no items needed for 登记
    with pytest.raises(TransitionRefused, match="直接办理登记"):
        services.transition_version(user("county"), version, "accept")
    version = services.transition_version(user("county"), version, "register")
    permit.refresh_from_db()
    assert (
        version.status == "issued" and permit.status == "valid" and permit.management_class == "registration"
    )
    key = services.open_application(user("ent_other"), world.e_other)
    kv = drive_to_submitted(key)
    with pytest.raises(TransitionRefused, match="只有登记管理类别"):
        services.transition_version(user("county_other"), kv, "register")


def drive_to_submitted(permit: Permit) -> PermitVersion:
    version = permit.versions.get()
    add_items(version)
    return drive(version, "submitted")


# --- change, renewal, re-application --------------------------------------------------------------


def test_change_creates_a_new_version_and_never_alters_the_issued_one(world: Any, issued: Permit) -> None:
    v1 = issued.current_version
    assert v1 is not None
    before = list(PermitItem.objects.filter(version=v1).order_by("pk").values())
    fact = timezone.localdate() - dt.timedelta(days=3)
    v2 = services.start_change(
        user("ent"), issued, reason="法定代表人变更；COD环评批复量调整", fact_date=fact
    )
    assert v2.number == 2 and v2.kind == "change" and v2.status == "draft" and v2.based_on_id == v1.pk
    assert v2.application_due == fact + dt.timedelta(days=30)
    assert v2.items.count() == v1.items.count()
    cod = v2.items.get(pollutant__code="w01018")
    cod.eia_t = Decimal("40")
    services.save_item(user("ent"), cod)
    drive(v2, "issued")
    issued.refresh_from_db()
    assert issued.current_version_id == v2.pk and issued.status == "valid"
    assert issued.valid_until == v1.valid_until  # a change keeps the term
    assert list(PermitItem.objects.filter(version=v1).order_by("pk").values()) == before
    diff = services.diff_versions(v1, v2)
    assert [(r.key, r.status) for r in diff.items] == [("DW001 化学需氧量", "changed")]
    changes = {label: (old, new) for label, old, new in diff.items[0].changes}
    assert changes["环评批复(t/a)"] == ("50", "40")
    assert changes["年许可排放量(t/a)"] == ("50", "40")


def test_an_issued_version_refuses_every_change_through_the_services(world: Any, issued: Permit) -> None:
    v1 = issued.current_version
    assert v1 is not None
    item = v1.items.first()
    assert item is not None
    item.eia_t = Decimal("1")
    with pytest.raises(TransitionRefused, match="已核发的许可证版本不可修改"):
        services.save_item(user("ent"), item)
    with pytest.raises(TransitionRefused, match="已核发"):
        services.delete_item(user("city"), item)
    new = PermitItem(version=v1, outlet=item.outlet, pollutant=Pollutant.objects.get(code="w21011"))
    with pytest.raises(TransitionRefused):
        services.save_item(user("ent"), new)
    assert PermitItem.objects.get(pk=item.pk).eia_t == Decimal("50")


def test_the_database_refuses_changes_to_an_issued_version(world: Any, issued: Permit) -> None:
    v1 = issued.current_version
    assert v1 is not None
    item = v1.items.first()
    assert item is not None
    statements = [
        ("UPDATE permits_permititem SET eia_t = 1 WHERE id = %s", [item.pk]),
        ("DELETE FROM permits_permititem WHERE id = %s", [item.pk]),
        (
            "INSERT INTO permits_permititem (version_id, outlet_id, pollutant_id, concentration_unit, standard_name, "
            "monitoring_mode, monitoring_frequency, note, annual_method, created_at, updated_at) "
            "SELECT version_id, outlet_id, (SELECT id FROM registry_pollutant WHERE code = 'w21011'), '', '', "
            "'manual', '', '', '', now(), now() FROM permits_permititem WHERE id = %s",
            [item.pk],
        ),
        ("UPDATE permits_permitversion SET reason = 'x' WHERE id = %s", [v1.pk]),
        ("DELETE FROM permits_permitversion WHERE id = %s", [v1.pk]),
        (
            "INSERT INTO permits_specialperiodlimit (version_id, pollutant_id, kind, label, alert_level, hydro_period, "
            "start_md, end_md, daily_kg, note, created_at, updated_at) VALUES (%s, %s, 'alert', '', 'red', '', '', '', "
            "1, '', now(), now())",
            [v1.pk, item.pollutant_id],
        ),
    ]
    for sql, params in statements:
        with (
            pytest.raises(DatabaseError, match=r"is issued|Cannot update or delete") as info,
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(sql, params)
        assert info.value is not None
    assert PermitItem.objects.filter(version=v1).count() == 2
    assert SpecialPeriodLimit.objects.filter(version=v1).count() == 0
    assert PermitVersion.objects.get(pk=v1.pk).reason == v1.reason


def test_a_draft_is_editable_by_the_applicant_and_under_review_by_the_reviewer(world: Any) -> None:
    permit = permit_in(world.e_own, "draft")
    version = permit.versions.get()
    item = version.items.first()
    assert item is not None
    item.note = "草稿修改"
    services.save_item(user("ent"), item)
    with pytest.raises(TransitionRefused, match="由申请单位填写"):
        services.save_item(user("county"), item)
    version = drive(version, "under_review")
    item.refresh_from_db()
    item.note = "审查修改"
    with pytest.raises(TransitionRefused, match="只有审查人员"):
        services.save_item(user("ent"), item)
    services.save_item(user("county"), item)
    version = services.transition_version(user("city"), version, "approve")
    with pytest.raises(TransitionRefused, match="已批准"):
        services.save_item(user("county"), item)


def test_only_one_application_at_a_time(world: Any, issued: Permit) -> None:
    services.start_renewal(user("ent"), issued)
    with pytest.raises(ServiceError, match="已有办理中的申请"):
        services.start_change(user("ent"), issued, reason="x", fact_date=timezone.localdate())


def test_change_validation(world: Any, issued: Permit) -> None:
    with pytest.raises(ServiceError) as info:
        services.start_change(user("ent"), issued, reason="", fact_date=timezone.localdate())
    assert info.value.field == "reason"
    with pytest.raises(ServiceError) as info:
        services.start_change(
            user("ent"), issued, reason="地址", fact_date=timezone.localdate() + dt.timedelta(days=1)
        )
    assert info.value.field == "fact_date"
    with pytest.raises(PermissionRefused):
        services.start_change(user("city"), issued, reason="x", fact_date=timezone.localdate())
    pending = permit_in(world.e_other, "draft")
    services.transition_version(user("ent_other"), pending.versions.get(), "withdraw")
    with pytest.raises(ServiceError, match="不能申请变更"):
        services.start_change(user("ent_other"), pending, reason="x", fact_date=timezone.localdate())


def test_late_change_is_accepted_but_recorded_as_late(world: Any, issued: Permit) -> None:
    fact = timezone.localdate() - dt.timedelta(days=45)
    version = services.start_change(user("ent"), issued, reason="生产设施变化", fact_date=fact)
    assert (
        DomainEvent.objects.filter(object_type="permits.permit", action="change_started")
        .order_by("id")
        .last()
        .payload["late"]
    )
    version = services.transition_version(user("ent"), version, "submit")
    submit = (
        DomainEvent.objects.filter(object_type="permits.permitversion", action="submit").order_by("id").last()
    )
    assert submit is not None and submit.payload["late"] is True


def test_renewal_starts_the_next_term_after_the_current_one(world: Any, issued: Permit) -> None:
    old_until = issued.valid_until
    assert old_until is not None
    version = services.start_renewal(user("ent"), issued, reason="届满延续")
    assert version.application_due == old_until - dt.timedelta(days=60)
    drive(version, "issued")
    issued.refresh_from_db()
    assert issued.valid_from == old_until + dt.timedelta(days=1)
    assert issued.valid_until == term_end(old_until + dt.timedelta(days=1))
    assert issued.number.endswith("001P") and issued.current_version_id == version.pk


def test_renewal_after_expiry_is_refused(world: Any, issued: Permit) -> None:
    Permit.objects.filter(pk=issued.pk).update(valid_until=timezone.localdate() - dt.timedelta(days=1))
    issued.refresh_from_db()
    with pytest.raises(ServiceError, match="不能申请延续"):
        services.start_renewal(user("ent"), issued)


def test_reapplication_after_expiry_reissues_a_new_term(world: Any, issued: Permit) -> None:
    from totalcap.permits.schedule import run_daily

    Permit.objects.filter(pk=issued.pk).update(valid_until=timezone.localdate() - dt.timedelta(days=1))
    run_daily()
    issued.refresh_from_db()
    assert issued.status == "expired"
    version = services.start_reapplication(user("ent"), issued, reason="许可证过期后继续生产，重新申请")
    assert version.kind == "reapply"
    drive(version, "issued")
    issued.refresh_from_db()
    assert issued.status == "valid" and issued.valid_until == term_end(timezone.localdate())


# --- the permit table ---------------------------------------------------------------------------

PERMIT_ROWS = [
    ("valid", "suspend", "city", "suspended"),
    ("suspended", "resume", "city", "valid"),
    ("valid", "revoke", "city", "revoked"),
    ("suspended", "revoke", "city", "revoked"),
    ("valid", "withdraw_license", "province", "withdrawn"),
    ("suspended", "withdraw_license", "city", "withdrawn"),
    ("valid", "cancel", "city", "cancelled"),
    ("suspended", "cancel", "city", "cancelled"),
    ("pending", "cancel", "city", "cancelled"),
    ("expired", "cancel", "city", "cancelled"),
    ("revoked", "cancel", "city", "cancelled"),
    ("withdrawn", "cancel", "province", "cancelled"),
]


def permit_state(world: Any, state: str) -> Permit:
    if state == "pending":
        return permit_in(world.e_own, "submitted")
    permit = permit_in(world.e_own, "issued")
    if state == "suspended":
        permit = services.transition_permit(user("city"), permit, "suspend", {"reason": "责令停产整治"})
    elif state in ("revoked", "withdrawn"):
        action = "revoke" if state == "revoked" else "withdraw_license"
        permit = services.transition_permit(user("city"), permit, action, {"reason": "违法"})
    elif state == "expired":
        permit = services.transition_permit(None, permit, "expire")
    return permit


@pytest.mark.parametrize(("state", "action", "who", "target"), PERMIT_ROWS)
def test_every_permit_transition_allowed(world: Any, state: str, action: str, who: str, target: str) -> None:
    permit = permit_state(world, state)
    result = services.transition_permit(user(who), permit, action, {"reason": "依法处理"})
    assert result.status == target
    assert events(result)[-1] == action
    if action in ("revoke", "withdraw_license", "cancel"):
        assert result.status_reason == "依法处理"
        assert result.open_version is None  # an application in progress ends with the permit


@pytest.mark.parametrize(("state", "action", "who", "target"), PERMIT_ROWS)
def test_every_permit_transition_refused_without_permission_scope_or_reason(
    world: Any, state: str, action: str, who: str, target: str
) -> None:
    permit = permit_state(world, state)
    before = Permit.objects.filter(pk=permit.pk).values().get()
    with pytest.raises(PermissionRefused):
        services.transition_permit(user("county"), permit, action, {"reason": "x"})
    with pytest.raises(PermissionRefused):
        services.transition_permit(user("ent"), permit, action, {"reason": "x"})
    with pytest.raises(ScopeViolation):
        services.transition_permit(user("city_other"), permit, action, {"reason": "x"})
    if action != "resume":
        with pytest.raises(ServiceError, match="请填写原因"):
            services.transition_permit(user(who), permit, action, {})
    assert Permit.objects.filter(pk=permit.pk).values().get() == before


@pytest.mark.parametrize(
    "state", ["pending", "valid", "suspended", "expired", "revoked", "withdrawn", "cancelled"]
)
def test_permit_actions_not_in_the_table_are_refused(world: Any, state: str) -> None:
    permit = permit_state(world, "revoked") if state == "cancelled" else permit_state(world, state)
    if state == "cancelled":
        permit = services.transition_permit(user("city"), permit, "cancel", {"reason": "注销"})
    allowed = {a for s, a, _t, _p in PERMIT_TABLE.rows() if s == state}
    for action in sorted(PERMIT_TABLE.actions() - allowed):
        with pytest.raises((TransitionRefused, PermissionRefused)):
            services.transition_permit(user("admin"), permit, action, {"reason": "x"})
    assert Permit.objects.get(pk=permit.pk).status == state


def test_system_only_rows_are_refused_to_people(world: Any, issued: Permit) -> None:
    for action in ("issue_version", "expire"):
        with pytest.raises(PermissionRefused, match="只能由系统执行"):
            services.transition_permit(user("admin"), issued, action)
    assert {t.action for t in PERMIT_TABLE.available(issued, user("city"))} == {
        "suspend", "revoke", "withdraw_license", "cancel",
    }  # fmt: skip


def test_a_change_issued_while_suspended_keeps_the_suspension(world: Any) -> None:
    permit = permit_state(world, "suspended")
    version = services.start_change(user("ent"), permit, reason="整改后调整", fact_date=timezone.localdate())
    drive(version, "issued")
    permit.refresh_from_db()
    assert permit.status == "suspended" and permit.current_version_id == version.pk


def test_closed_permits_take_no_new_applications(world: Any) -> None:
    permit = permit_state(world, "revoked")
    with pytest.raises(ServiceError):
        services.start_change(user("ent"), permit, reason="x", fact_date=timezone.localdate())
    with pytest.raises(ServiceError, match="请重新提出首次申请"):
        services.start_reapplication(user("ent"), permit, reason="x")
    # a revoked permit no longer blocks a new first application
    fresh = services.open_application(user("ent"), world.e_own)
    assert fresh.pk != permit.pk and fresh.status == "pending"


def test_report_table_rows() -> None:
    assert {(s, a) for s, a, _t, _p in REPORT_TABLE.rows()} == {
        ("pending", "submit"), ("returned", "submit"), ("submitted", "accept"), ("submitted", "return"),
    }  # fmt: skip


def test_path_helper_matches_the_table() -> None:
    for (action, _who, target), state in zip(PATH, ORDER, strict=False):
        row = VERSION_TABLE.find(state, action)
        assert row is not None and row.target == target


def test_actor_for_uses_the_other_side(world: Any) -> None:
    assert actor_for("county", world.e_other).username == "county_other"
