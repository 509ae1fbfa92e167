"""The life cycles of permits, of their versions (applications) and of execution reports.

Three explicit tables (``base/transitions.py``): who may do what from which state. Every step goes
through :func:`totalcap.base.transitions.apply_transition` (lock, check, change, domain event).
Guards check the object's state only; actions that need a reason are listed in
:data:`REASON_REQUIRED` and checked by the services before the table is applied.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from totalcap.base.transitions import Transition, TransitionTable
from totalcap.permits import choices as c
from totalcap.permits.models import ExecutionReport, Permit, PermitVersion
from totalcap.registry.choices import ManagementClass

V = c.VersionStatus
P = c.PermitStatus
R = c.ReportStatus

#: Actions refused without a written reason (the reason is kept in the event and on the object).
REASON_REQUIRED = {
    "version": {"refuse", "return", "deny"},
    "permit": {"suspend", "revoke", "withdraw_license", "cancel"},
    "report": {"return"},
}


# --- guards (state only: ``available()`` calls them without parameters) --------------------------


def contents_problem(version: PermitVersion) -> str | None:
    """Why the version's contents are not complete enough to submit or approve, or None."""
    from totalcap.permits.services import contents_problems

    problems = contents_problems(version)
    return problems[0] if problems else None


def _guard_submit(version: PermitVersion, actor: Any, params: dict[str, Any]) -> str | None:
    permit = version.permit
    if permit.status in (P.REVOKED, P.WITHDRAWN, P.CANCELLED):
        return _("许可证已%(s)s，不能再提交申请。") % {"s": permit.get_status_display().lstrip("已")}
    if (
        version.kind == c.VersionKind.RENEWAL
        and permit.valid_until
        and timezone.localdate() > permit.valid_until
    ):
        return _("许可证已于%(d)s到期，不能申请延续，请重新申请。") % {"d": permit.valid_until}
    return contents_problem(version)


def _guard_not_registration(version: PermitVersion, actor: Any, params: dict[str, Any]) -> str | None:
    if version.management_class == ManagementClass.REGISTRATION:
        return _("登记管理的排污单位填报排污登记表，无需受理和技术审查，请直接办理登记。")
    return None


def _guard_registration(version: PermitVersion, actor: Any, params: dict[str, Any]) -> str | None:
    if version.management_class != ManagementClass.REGISTRATION:
        return _("只有登记管理类别可以直接登记；重点管理和简化管理须受理、审查和审批。")
    return None


def _guard_approve(version: PermitVersion, actor: Any, params: dict[str, Any]) -> str | None:
    return contents_problem(version)


def _guard_issue(version: PermitVersion, actor: Any, params: dict[str, Any]) -> str | None:
    permit = version.permit
    if permit.status in (P.REVOKED, P.WITHDRAWN, P.CANCELLED):
        return _("许可证已%(s)s，不能核发。") % {"s": permit.get_status_display().lstrip("已")}
    return None


def _guard_report_submit(report: ExecutionReport, actor: Any, params: dict[str, Any]) -> str | None:
    if not report.summary.strip():
        return _("请先填写执行情况说明。")
    if report.all_compliant is None:
        return _("请说明报告期内是否全部达标。")
    return None


# --- effects ------------------------------------------------------------------------------------


def _on_submit(version: PermitVersion, actor: Any, params: dict[str, Any]) -> None:
    version.submitted_at = timezone.now()
    if actor is not None and not isinstance(actor, str):
        version.applicant = actor


def _on_accept(version: PermitVersion, actor: Any, params: dict[str, Any]) -> None:
    version.accepted_at = timezone.now()


def _on_opinion(version: PermitVersion, actor: Any, params: dict[str, Any]) -> None:
    if params.get("reason"):
        version.opinion = str(params["reason"])


def _on_approve(version: PermitVersion, actor: Any, params: dict[str, Any]) -> None:
    version.approved_at = timezone.now()
    _on_opinion(version, actor, params)


def _on_issue(version: PermitVersion, actor: Any, params: dict[str, Any]) -> None:
    from totalcap.permits.services import issue_version

    issue_version(version, actor)


def _on_register(version: PermitVersion, actor: Any, params: dict[str, Any]) -> None:
    now = timezone.now()
    version.accepted_at = version.accepted_at or now
    version.approved_at = now
    _on_issue(version, actor, params)


def _on_permit_reason(permit: Permit, actor: Any, params: dict[str, Any]) -> None:
    permit.status_reason = str(params.get("reason") or "")


def _on_permit_closed(permit: Permit, actor: Any, params: dict[str, Any]) -> None:
    from totalcap.permits.services import close_open_application

    _on_permit_reason(permit, actor, params)
    close_open_application(permit, actor)


def _on_report_submit(report: ExecutionReport, actor: Any, params: dict[str, Any]) -> None:
    report.submitted_at = timezone.now()


def _on_report_reviewed(report: ExecutionReport, actor: Any, params: dict[str, Any]) -> None:
    report.reviewed_at = timezone.now()
    if params.get("reason"):
        report.opinion = str(params["reason"])


# --- the tables ---------------------------------------------------------------------------------

VERSION_TABLE = TransitionTable(
    PermitVersion,
    "status",
    [
        Transition((V.DRAFT, V.RETURNED), "submit", V.SUBMITTED, "提交申请", "permits.submit_permitversion", _guard_submit, _on_submit),
        Transition((V.DRAFT, V.RETURNED, V.SUBMITTED), "withdraw", V.WITHDRAWN, "撤回申请", "permits.submit_permitversion"),
        Transition((V.SUBMITTED,), "accept", V.ACCEPTED, "受理", "permits.accept_permitversion", _guard_not_registration, _on_accept),
        Transition((V.SUBMITTED,), "register", V.ISSUED, "登记", "permits.accept_permitversion", _guard_registration, _on_register),
        Transition((V.SUBMITTED,), "refuse", V.REJECTED, "不予受理", "permits.accept_permitversion", None, _on_opinion),
        Transition((V.SUBMITTED, V.ACCEPTED, V.UNDER_REVIEW), "return", V.RETURNED, "退回补正", "permits.review_permitversion", None, _on_opinion),
        Transition((V.ACCEPTED,), "start_review", V.UNDER_REVIEW, "开始技术审查", "permits.review_permitversion"),
        Transition((V.UNDER_REVIEW,), "approve", V.APPROVED, "审批通过", "permits.approve_permitversion", _guard_approve, _on_approve),
        Transition((V.UNDER_REVIEW,), "deny", V.REJECTED, "不予许可", "permits.approve_permitversion", None, _on_opinion),
        Transition((V.APPROVED,), "issue", V.ISSUED, "核发", "permits.issue_permitversion", _guard_issue, _on_issue),
    ],
)  # fmt: skip

PERMIT_TABLE = TransitionTable(
    Permit,
    "status",
    [
        # applied by the issue of a version (not offered to users; recorded with the issuing user)
        Transition((P.PENDING, P.EXPIRED, P.VALID), "issue_version", P.VALID, "核发新版本", system_only=True),
        Transition((P.SUSPENDED,), "issue_version", P.SUSPENDED, "核发新版本", system_only=True),
        Transition((P.VALID,), "suspend", P.SUSPENDED, "暂停", "permits.suspend_permit", None, _on_permit_reason),
        Transition((P.SUSPENDED,), "resume", P.VALID, "恢复", "permits.suspend_permit", None, _on_permit_reason),
        Transition((P.VALID, P.SUSPENDED), "revoke", P.REVOKED, "撤销", "permits.revoke_permit", None, _on_permit_closed),
        Transition((P.VALID, P.SUSPENDED), "withdraw_license", P.WITHDRAWN, "吊销", "permits.revoke_permit", None, _on_permit_closed),
        Transition(
            (P.PENDING, P.VALID, P.SUSPENDED, P.EXPIRED, P.REVOKED, P.WITHDRAWN), "cancel", P.CANCELLED, "注销",
            "permits.cancel_permit", None, _on_permit_closed,
        ),
        Transition((P.VALID, P.SUSPENDED), "expire", P.EXPIRED, "到期失效", system_only=True),
    ],
)  # fmt: skip

REPORT_TABLE = TransitionTable(
    ExecutionReport,
    "status",
    [
        Transition((R.PENDING, R.RETURNED), "submit", R.SUBMITTED, "提交报告", "permits.submit_executionreport", _guard_report_submit, _on_report_submit),
        Transition((R.SUBMITTED,), "accept", R.ACCEPTED, "审核通过", "permits.review_executionreport", None, _on_report_reviewed),
        Transition((R.SUBMITTED,), "return", R.RETURNED, "退回修改", "permits.review_executionreport", None, _on_report_reviewed),
    ],
)  # fmt: skip

TABLES = {"version": VERSION_TABLE, "permit": PERMIT_TABLE, "report": REPORT_TABLE}


def label_of(table: TransitionTable, action: str) -> str:
    for t in table.transitions:
        if t.action == action:
            return t.label
    return action
