"""The quota ledger: balanced, append-only, idempotent, concurrent-safe, reconciled."""

from __future__ import annotations

import io
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.db.utils import InternalError, ProgrammingError

from tests.quotas.factory import YEAR
from totalcap.quotas import ledger
from totalcap.quotas.choices import AccountKind, TransactionKind
from totalcap.quotas.models import LedgerEntry, LedgerTransaction, QuotaAccount
from totalcap.registry.models import Pollutant


def _pair(world: Any) -> tuple[QuotaAccount, QuotaAccount]:
    cod = Pollutant.objects.get(code="w01018")
    annual = ledger.account(AccountKind.ANNUAL, enterprise=world.e_own, pollutant=cod, year=YEAR)
    monthly = ledger.account(AccountKind.MONTHLY, enterprise=world.e_own, pollutant=cod, year=YEAR, month=1)
    return annual, monthly


def test_post_is_balanced_and_updates_cached_balances(world: Any) -> None:
    annual, monthly = _pair(world)
    posted = ledger.post(
        TransactionKind.LOADING, "t1", [(annual, Decimal("-10.5")), (monthly, Decimal("10.5"))]
    )
    assert posted.created
    annual.refresh_from_db()
    monthly.refresh_from_db()
    assert annual.balance == Decimal("-10.5") and monthly.balance == Decimal("10.5")
    assert sum(e.amount for e in posted.transaction.entries.all()) == 0


def test_unbalanced_and_empty_postings_are_refused(world: Any) -> None:
    annual, monthly = _pair(world)
    with pytest.raises(ledger.LedgerError, match="unbalanced"):
        ledger.post(TransactionKind.LOADING, "bad", [(annual, Decimal("-1")), (monthly, Decimal("2"))])
    with pytest.raises(ledger.LedgerError):
        ledger.post(TransactionKind.LOADING, "empty", [(annual, Decimal("0"))])
    assert not LedgerTransaction.objects.filter(key__in=["bad", "empty"]).exists()


def test_same_key_is_stored_once(world: Any) -> None:
    annual, monthly = _pair(world)
    first = ledger.post(
        TransactionKind.CONSUMPTION, "sample:1", [(annual, Decimal("-2")), (monthly, Decimal("2"))]
    )
    second = ledger.post(
        TransactionKind.CONSUMPTION, "sample:1", [(annual, Decimal("-2")), (monthly, Decimal("2"))]
    )
    assert first.created and not second.created and first.transaction.pk == second.transaction.pk
    monthly.refresh_from_db()
    assert monthly.balance == Decimal("2")


def test_entries_and_transactions_are_append_only(world: Any) -> None:
    annual, monthly = _pair(world)
    posted = ledger.post(TransactionKind.LOADING, "t-ro", [(annual, Decimal("-1")), (monthly, Decimal("1"))])
    for sql in (
        "UPDATE quotas_ledgerentry SET amount = 99 WHERE transaction_id = %s",
        "DELETE FROM quotas_ledgerentry WHERE transaction_id = %s",
        "UPDATE quotas_ledgertransaction SET memo = 'x' WHERE id = %s",
    ):
        with (
            pytest.raises((InternalError, ProgrammingError)),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(sql, [posted.transaction.pk])
    assert LedgerEntry.objects.filter(transaction=posted.transaction).count() == 2


def test_reconcile_finds_a_balance_changed_behind_the_ledger(world: Any) -> None:
    annual, monthly = _pair(world)
    ledger.post(TransactionKind.LOADING, "t-rec", [(annual, Decimal("-5")), (monthly, Decimal("5"))])
    out = io.StringIO()
    call_command("quotas", "reconcile", stdout=out)
    assert out.getvalue().startswith("OK")
    QuotaAccount.objects.filter(pk=monthly.pk).update(balance=Decimal("50"))  # behind the ledger's back
    report = ledger.reconcile()
    assert [d.account_id for d in report.differences] == [monthly.pk]
    assert report.differences[0].cached == Decimal("50") and report.differences[0].entries == Decimal("5")
    text = io.StringIO()
    with pytest.raises(CommandError, match="1 account"):
        call_command("quotas", "reconcile", stdout=text)
    assert f"account #{monthly.pk}" in text.getvalue() and "difference 45" in text.getvalue()


def test_hundred_concurrent_postings_to_one_account_lose_no_update(tx_world: Any) -> None:
    annual, monthly = _pair(tx_world)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(10):
                ledger.post(
                    TransactionKind.CONSUMPTION,
                    f"c:{n}:{i}",
                    [(monthly, Decimal("-1.25")), (annual, Decimal("1.25"))],
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    monthly.refresh_from_db()
    annual.refresh_from_db()
    assert monthly.balance == Decimal("-125.00") and annual.balance == Decimal("125.00")
    assert ledger.entries_total(monthly) == monthly.balance
    assert ledger.reconcile().ok


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

AMOUNTS = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("100000"), places=4, allow_nan=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), AMOUNTS), min_size=1, max_size=25))
def test_any_sequence_of_postings_stays_balanced_and_reconciles(
    world: Any, moves: list[tuple[int, int, Decimal]]
) -> None:
    """Whatever moves between accounts, the closed system sums to zero and every cache reconciles."""
    cod = Pollutant.objects.get(code="w01018")
    accounts = [
        ledger.account(AccountKind.ANNUAL, enterprise=world.e_own, pollutant=cod, year=YEAR + 5),
        *[
            ledger.account(AccountKind.MONTHLY, enterprise=world.e_own, pollutant=cod, year=YEAR + 5, month=m)
            for m in (1, 2)
        ],
        ledger.account(AccountKind.EMITTED, enterprise=world.e_own, pollutant=cod, year=YEAR + 5, month=1),
    ]
    start = LedgerTransaction.objects.count()
    with transaction.atomic():
        for i, (a, b, amount) in enumerate(moves):
            if a == b:
                continue
            ledger.post(
                TransactionKind.ADJUSTMENT, f"h:{start}:{i}", [(accounts[a], -amount), (accounts[b], amount)]
            )
        fresh = QuotaAccount.objects.filter(pk__in=[acc.pk for acc in accounts])
        assert sum(acc.balance for acc in fresh) == Decimal("0")
        for acc in fresh:
            assert ledger.entries_total(acc) == acc.balance
        transaction.set_rollback(True)
