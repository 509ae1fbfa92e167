"""How ``send_command`` writes a command: one statement that inserts it and notifies the other
gateways (``ingest_command``, delivered at commit), a dedupe key that returns the first command,
and a QN already taken (two commands for one logger in the same millisecond) that moves on to the
next QN — without a savepoint, so the caller's transaction stays usable."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from django.db import connection, transaction
from django.utils import timezone

from totalcap.ingest import services
from totalcap.ingest.models import Command
from totalcap.registry.models import DataLogger

from .conftest import test_dsn as database_dsn


def _water_logger(world: Any) -> DataLogger:
    return DataLogger.objects.get(outlet__enterprise=world.e_own, outlet__code="DW001")


def test_a_command_is_announced_to_other_gateways_when_its_transaction_commits(tx_world: Any) -> None:
    logger = _water_logger(tx_world)
    with psycopg.connect(database_dsn(), autocommit=True) as listener:
        listener.execute("LISTEN ingest_command")
        with transaction.atomic():
            first = services.send_command("quotas", logger, "close_valve", dedupe_key="insert-test")
            again = services.send_command("quotas", logger, "close_valve", dedupe_key="insert-test")
            assert again.pk == first.pk
            assert not list(listener.notifies(timeout=0.3, stop_after=1))  # not before the commit
        heard = [n.payload for n in listener.notifies(timeout=5, stop_after=1)]
        assert heard == [str(first.pk)]
        assert not list(listener.notifies(timeout=0.3, stop_after=1))  # the duplicate sent nothing
    assert Command.objects.filter(dedupe_key="insert-test").count() == 1


def test_a_qn_already_taken_moves_on_to_the_next_in_the_same_transaction(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    logger = _water_logger(world)
    moment = timezone.now()
    monkeypatch.setattr(services.timezone, "now", lambda: moment)
    with transaction.atomic():
        first = services.send_command(None, logger, "get_time")
        second = services.send_command(None, logger, "get_time")
        assert first.qn != second.qn and first.pk != second.pk
        with connection.cursor() as cur:  # the transaction is intact: no aborted statement in it
            cur.execute("SELECT count(*) FROM ingest_command WHERE logger_id = %s", [logger.pk])
            assert cur.fetchone()[0] >= 2
    assert first.requested_at == second.requested_at == moment
