"""Default bases for allocation proposals, per method.

* history — last year's consumption in the ledger (the enterprise's emitted accounts);
* standard — the emission-standard-method figure of the enterprise's permit in force (t → kg);
* performance and manual — entered by the regulator (no default).
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum

from totalcap.quotas.choices import AccountKind, AllocationMethod
from totalcap.quotas.models import ZERO, QuotaAccount, RegionTotal
from totalcap.registry.models import Enterprise


def default_bases(
    total: RegionTotal, method: str, enterprises: list[Enterprise]
) -> dict[int, tuple[Decimal, str]]:
    ids = [e.pk for e in enterprises]
    if method == AllocationMethod.HISTORY:
        rows = (
            QuotaAccount.objects.filter(
                kind=AccountKind.EMITTED,
                enterprise_id__in=ids,
                pollutant=total.pollutant,
                year=total.year - 1,
            )
            .values("enterprise_id")
            .annotate(total=Sum("balance"))
        )
        return {
            r["enterprise_id"]: (Decimal(r["total"] or ZERO), f"{total.year - 1}年排放量（台账）")
            for r in rows
        }
    if method == AllocationMethod.STANDARD:
        from totalcap.permits.choices import IN_FORCE
        from totalcap.permits.models import PermitItem

        result: dict[int, tuple[Decimal, str]] = {}
        items = PermitItem.objects.filter(
            version__permit__enterprise_id__in=ids,
            version__permit__status__in=IN_FORCE,
            version__permit__current_version_id__isnull=False,
            pollutant=total.pollutant,
            standard_method_t__isnull=False,
        ).select_related("version__permit")
        for item in items:
            permit = item.version.permit
            if permit.current_version_id != item.version_id:
                continue
            kg = (item.standard_method_t or ZERO) * 1000
            previous = result.get(permit.enterprise_id, (ZERO, ""))[0]
            result[permit.enterprise_id] = (previous + kg, "许可证排放标准法核定量")
        return result
    return {}
