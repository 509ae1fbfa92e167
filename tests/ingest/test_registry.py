"""The gateway's registry cache reloads incrementally: only loggers whose row changed are read."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from totalcap.ingest.gateway.registry import RegistryCache, load_profiles
from totalcap.registry.models import DataLogger, Outlet


def test_reload_reads_only_changed_new_and_removed_loggers(world: Any) -> None:
    cache = RegistryCache(unknown_interval=5.0)
    cache.apply(load_profiles())
    everyone = set(DataLogger.objects.values_list("pk", flat=True))
    assert set(cache.by_id) == everyone and len(everyone) >= 2
    logger = DataLogger.objects.filter(outlet__enterprise=world.e_own).order_by("pk").first()
    assert logger is not None and cache.get(logger.mn.lower()) == cache.by_id[logger.pk]
    before = cache.by_mn, cache.by_id

    # nothing changed: one query, the same maps
    with CaptureQueriesContext(connection) as queries:
        cache.apply(load_profiles(cache.fingerprints))
    assert len(queries) == 1
    assert (cache.by_mn, cache.by_id) == before and cache.by_mn is before[0]

    # a new password, a new logger and a removed one: exactly those are read
    logger.password = "654321"
    logger.save()
    outlet = Outlet.objects.get(pk=logger.outlet_id)
    added = DataLogger.objects.create(mn="NEWREG0000000000000001", outlet=outlet, password="111111")
    gone = DataLogger.objects.exclude(pk__in=[logger.pk, added.pk]).order_by("-pk").first()
    assert gone is not None
    gone_pk, gone_mn = gone.pk, gone.mn
    gone.delete()
    delta = load_profiles(cache.fingerprints)
    assert set(delta.changed) == {logger.pk, added.pk}
    cache.apply(delta)
    assert cache.by_id[logger.pk].password == "654321"
    assert cache.get("NEWREG0000000000000001") == cache.by_id[added.pk]
    assert gone_pk not in cache.by_id and cache.get(gone_mn) is None
    assert set(cache.by_id) == everyone - {gone_pk} | {added.pk}

    # a move of the outlet to another enterprise changes the profile too
    outlet.enterprise, outlet.code = world.e_other, "DW999"
    outlet.save()
    delta = load_profiles(cache.fingerprints)
    assert logger.pk in delta.changed and delta.changed[logger.pk].enterprise_id == world.e_other.pk
