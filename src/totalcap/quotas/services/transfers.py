"""Adjustments (调剂, between months of one enterprise within its annual total) and transfers
(quota bought from another enterprise), both approved by the regulator before anything moves."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from totalcap.base import events
from totalcap.base.exceptions import PermissionRefused, ServiceError
from totalcap.base.transitions import Transition, TransitionTable, apply_transition
from totalcap.quotas import ledger
from totalcap.quotas.choices import TransactionKind, TransferStatus
from totalcap.quotas.models import ZERO, Transfer
from totalcap.quotas.services.common import annual_account, monthly_account
from totalcap.registry.models import Enterprise, Pollutant


def request_transfer(
    actor: Any,
    *,
    from_enterprise: Enterprise,
    to_enterprise: Enterprise,
    pollutant: Pollutant,
    year: int,
    to_month: int,
    amount: Decimal,
    reason: str,
    from_month: int | None = None,
    price: Decimal | None = None,
) -> Transfer:
    """Ask to move quota; the seller's balance is checked now and again at approval."""
    if amount <= ZERO:
        raise ServiceError(_("数量必须大于0。"), field="amount")
    if not reason.strip():
        raise ServiceError(_("请填写理由。"), field="reason")
    if not 1 <= to_month <= 12 or (from_month is not None and not 1 <= from_month <= 12):
        raise ServiceError(_("月份应在1至12之间。"), field="to_month")
    transfer = Transfer(
        from_enterprise=from_enterprise,
        to_enterprise=to_enterprise,
        pollutant=pollutant,
        year=year,
        from_month=from_month,
        to_month=to_month,
        amount=amount,
        price=price,
        reason=reason,
        requested_by=actor if getattr(actor, "pk", None) else None,
    )
    from django.core.exceptions import ValidationError

    try:
        transfer.full_clean()
    except ValidationError as exc:
        raise ServiceError.from_validation(exc) from exc
    if _source_balance(transfer) < amount:
        raise ServiceError(
            _("转出账户余额不足（当前 %(b)s）。") % {"b": _source_balance(transfer)}, field="amount"
        )
    with transaction.atomic():
        transfer.save()
        events.record(
            actor, transfer, "transfer_requested", {"amount": amount, "adjustment": transfer.is_adjustment}
        )
    return transfer


def _source_account(transfer: Transfer) -> Any:
    if transfer.from_month is None:
        return annual_account(transfer.from_enterprise, transfer.pollutant, transfer.year)
    return monthly_account(transfer.from_enterprise, transfer.pollutant, transfer.year, transfer.from_month)


def _source_balance(transfer: Transfer) -> Decimal:
    return Decimal(_source_account(transfer).balance)


def _post(transfer: Transfer, actor: Any, params: dict[str, Any]) -> None:
    if (
        getattr(actor, "pk", None) is not None
        and actor.pk == transfer.requested_by_id
        and not transfer.is_adjustment
    ):
        raise PermissionRefused(_("申请人不能审批自己提交的转让。"))
    source = _source_account(transfer)
    target = monthly_account(transfer.to_enterprise, transfer.pollutant, transfer.year, transfer.to_month)
    fresh = ledger.lock([source, target])
    if fresh[source.pk].balance < transfer.amount:
        raise ServiceError(
            _("转出账户余额不足（当前 %(b)s），不能批准。") % {"b": fresh[source.pk].balance},
            code="insufficient",
        )
    kind = TransactionKind.ADJUSTMENT if transfer.is_adjustment else TransactionKind.TRANSFER
    ledger.post(
        kind,
        f"transfer:{transfer.pk}",
        [(source, -transfer.amount), (target, transfer.amount)],
        memo=(
            "调剂："
            if transfer.is_adjustment
            else f"{transfer.from_enterprise.name} 转让给 {transfer.to_enterprise.name}："
        )
        + transfer.reason,
        actor=actor,
        reference={
            "transfer": transfer.pk,
            "price": str(transfer.price) if transfer.price is not None else None,
        },
        enterprise=transfer.to_enterprise,
    )
    transfer.reviewed_by = actor if getattr(actor, "pk", None) else None
    transfer.reviewed_at = timezone.now()
    transfer.review_note = str(params.get("note", ""))[:255]
    from totalcap.quotas.services.consumption import evaluate_enterprise

    year, to_month, from_month = transfer.year, transfer.to_month, transfer.from_month
    to_id, from_id = transfer.to_enterprise_id, transfer.from_enterprise_id
    transaction.on_commit(lambda: evaluate_enterprise(to_id, year, to_month))
    if from_month is not None:
        transaction.on_commit(lambda: evaluate_enterprise(from_id, year, from_month))


def _reject_note(transfer: Transfer, actor: Any, params: dict[str, Any]) -> str | None:
    return None if str(params.get("note", "")).strip() else _("驳回须填写审批意见。")


def _record_review(transfer: Transfer, actor: Any, params: dict[str, Any]) -> None:
    transfer.reviewed_by = actor if getattr(actor, "pk", None) else None
    transfer.reviewed_at = timezone.now()
    transfer.review_note = str(params.get("note", ""))[:255]


TRANSFER_LIFE_CYCLE = TransitionTable(
    Transfer,
    "status",
    [
        Transition((TransferStatus.REQUESTED,), "approve", TransferStatus.APPROVED, "批准",
                   permission="quotas.approve_transfer", effect=_post),
        Transition((TransferStatus.REQUESTED,), "reject", TransferStatus.REJECTED, "驳回",
                   permission="quotas.approve_transfer", guard=_reject_note, effect=_record_review),
    ],
)  # fmt: skip


def review(actor: Any, transfer: Transfer, action: str, note: str = "") -> Transfer:
    result: Transfer = apply_transition(TRANSFER_LIFE_CYCLE, transfer, action, actor, {"note": note})
    return result
