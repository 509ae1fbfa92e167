"""The quota ledger: append-only, double-entry, Decimal.

:func:`post` writes one balanced transaction — its legs sum to zero — and updates the cached
balances of the accounts it touches, which it locks in primary-key order first. A posting carries a
key: the same key posted twice is stored once (a re-sent sample, a second swipe, a settlement run
twice). :func:`reconcile` proves that every cached balance equals the sum of its entries.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from totalcap.base.db import insert_unless_conflict
from totalcap.base.exceptions import ServiceError
from totalcap.quotas.choices import AccountKind
from totalcap.quotas.models import ZERO, LedgerEntry, LedgerTransaction, QuotaAccount, unit_of
from totalcap.registry.models import Enterprise, Jurisdiction, Outlet, Pollutant


class LedgerError(ServiceError):
    code = "ledger_error"


def account(
    kind: str,
    *,
    pollutant: Pollutant,
    year: int,
    month: int | None = None,
    enterprise: Enterprise | None = None,
    outlet: Outlet | None = None,
    jurisdiction: Jurisdiction | None = None,
) -> QuotaAccount:
    """The account of these dimensions, created on first use (safe under concurrency)."""
    if jurisdiction is None:
        if enterprise is None:
            raise LedgerError("a region account needs a jurisdiction")
        jurisdiction = enterprise.jurisdiction
    lookup: dict[str, Any] = {
        "kind": kind,
        "jurisdiction": jurisdiction,
        "enterprise": enterprise,
        "outlet": outlet,
        "pollutant": pollutant,
        "year": year,
        "month": month,
    }
    found: QuotaAccount | None = QuotaAccount.objects.filter(**lookup).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            created: QuotaAccount = QuotaAccount.objects.create(**lookup, unit=unit_of(pollutant.code))
            return created
    except IntegrityError:
        existing: QuotaAccount = QuotaAccount.objects.get(**lookup)
        return existing


@dataclass(frozen=True)
class Posted:
    transaction: LedgerTransaction
    created: bool


def post(
    kind: str,
    key: str,
    legs: Sequence[tuple[QuotaAccount, Decimal]],
    *,
    memo: str = "",
    actor: Any = None,
    occurred_at: dt.datetime | None = None,
    reference: dict[str, Any] | None = None,
    enterprise: Enterprise | None = None,
) -> Posted:
    """Write a balanced transaction once per ``key``; returns it and whether it was new.

    When it is new, the accounts of ``legs`` are locked (primary-key order) until the caller's
    transaction ends, and the caller's account objects carry the rows' current values (balance,
    alert level), so a threshold evaluation in the same transaction needs no second lock."""
    legs = [(acc, Decimal(amount)) for acc, amount in legs if Decimal(amount) != ZERO]
    if not legs:
        raise LedgerError("nothing to post", code="empty_posting")
    by_unit: dict[str, Decimal] = defaultdict(Decimal)
    for acc, amount in legs:
        by_unit[acc.unit] += amount
    if any(total != ZERO for total in by_unit.values()):
        raise LedgerError(f"unbalanced posting {key}: {dict(by_unit)}", code="unbalanced")
    label = "system" if actor is None else (actor if isinstance(actor, str) else actor.get_username())
    first = legs[0][0]
    # No savepoint: a posting that fails dooms the caller's transaction (or the caller's nearest
    # savepoint), which is what a ledger wants; the idempotent insert tells a key already posted
    # without an error (ON CONFLICT DO NOTHING).
    with transaction.atomic(savepoint=False):
        tx = LedgerTransaction(
            kind=kind,
            key=key[:160],
            memo=memo[:255],
            jurisdiction_id=first.jurisdiction_id,
            enterprise=enterprise or first.enterprise,
            actor_label=label[:150],
            occurred_at=occurred_at or timezone.now(),
            reference=reference or {},
        )
        if not insert_unless_conflict(tx):
            return Posted(LedgerTransaction.objects.get(key=key[:160]), False)
        locked = lock(acc for acc, _ in legs)
        LedgerEntry.objects.bulk_create(
            LedgerEntry(transaction=tx, account_id=acc.pk, amount=amt) for acc, amt in legs
        )
        deltas: dict[int, Decimal] = defaultdict(Decimal)
        for acc, amount in legs:
            deltas[acc.pk] += amount
        now = timezone.now()
        for pk, delta in deltas.items():
            row = locked[pk]
            row.balance += delta
            row.updated_at = now
        changed = [locked[pk] for pk in sorted(deltas)]
        if len(changed) == 1:
            changed[0].save(update_fields=["balance", "updated_at"])
        else:  # one UPDATE for all the accounts of the posting
            QuotaAccount.objects.bulk_update(changed, ["balance", "updated_at"])
        for acc, _ in legs:
            _refresh_from(acc, locked[acc.pk])
    return Posted(tx, True)


def _refresh_from(acc: QuotaAccount, row: QuotaAccount) -> None:
    """The caller's object takes the values of the row locked (and changed) by the posting, so
    that after :func:`post` it is current — and stays so, locked, until the transaction ends.
    Its cached relations (enterprise, pollutant …) are kept: an account's dimensions never change."""
    if acc is row:
        return
    for f in QuotaAccount._meta.concrete_fields:
        if not f.is_relation:
            setattr(acc, f.attname, getattr(row, f.attname))


def lock(accounts: Iterable[QuotaAccount]) -> dict[int, QuotaAccount]:
    """Lock accounts in primary-key order (inside the caller's transaction) and return fresh rows."""
    ids = sorted({a.pk for a in accounts})
    return {
        a.pk: a for a in QuotaAccount.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
    }


@dataclass(frozen=True)
class Difference:
    account_id: int
    label: str
    cached: Decimal
    entries: Decimal


@dataclass(frozen=True)
class Reconciliation:
    accounts: int
    differences: list[Difference]
    unbalanced_transactions: list[int]

    @property
    def ok(self) -> bool:
        return not self.differences and not self.unbalanced_transactions


def reconcile() -> Reconciliation:
    """Compare every cached balance with the sum of its entries; find unbalanced transactions."""
    sums = dict(
        LedgerEntry.objects.values("account_id")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "total")
    )
    differences = []
    count = 0
    for acc in QuotaAccount.objects.select_related(
        "enterprise", "jurisdiction", "pollutant", "outlet"
    ).order_by("pk"):
        count += 1
        total = sums.get(acc.pk) or ZERO
        if total != acc.balance:
            differences.append(Difference(acc.pk, str(acc), acc.balance, total))
    with connection.cursor() as cur:
        cur.execute(
            "SELECT e.transaction_id FROM quotas_ledgerentry e JOIN quotas_quotaaccount a ON a.id = e.account_id "
            "GROUP BY e.transaction_id, a.unit HAVING sum(e.amount) <> 0 ORDER BY 1"
        )
        unbalanced = sorted({int(row[0]) for row in cur.fetchall()})
    return Reconciliation(count, differences, unbalanced)


def entries_total(acc: QuotaAccount) -> Decimal:
    value = LedgerEntry.objects.filter(account=acc).aggregate(total=Sum("amount"))["total"]
    return Decimal(value or ZERO)


def is_usable(acc: QuotaAccount) -> bool:
    return acc.kind in (AccountKind.RESERVE, AccountKind.ANNUAL, AccountKind.MONTHLY)
