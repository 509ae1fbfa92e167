from __future__ import annotations

from totalcap.alarms import filtersets as f
from totalcap.alarms import tables as t
from totalcap.alarms.api import serializers as s
from totalcap.alarms.models import Alarm, Delivery
from totalcap.alarms.views import AlarmDetailView
from totalcap.base.resources import Resource

RESOURCES = [
    Resource(
        Alarm, t.AlarmTable, f.AlarmFilterSet, s.AlarmSerializer, editable=False, deletable=False,
        select_related=("enterprise", "jurisdiction"), views={"detail": AlarmDetailView},
    ),
    Resource(
        Delivery, t.DeliveryTable, f.DeliveryFilterSet, s.DeliverySerializer, editable=False, deletable=False,
        select_related=("channel", "alarm"),
    ),
]  # fmt: skip
