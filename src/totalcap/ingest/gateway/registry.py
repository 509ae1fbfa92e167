"""The gateway's cache of the logger registry: MN → profile, password, outlet.

Loaded through the Django ORM (the password is encrypted at rest) in the gateway's Django thread,
reloaded periodically and, rate-limited, when an unknown MN shows up (a logger registered a minute
ago connects without waiting for the next periodic reload).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from hj212 import Peer, Profile

log = logging.getLogger("totalcap.ingest.registry")


@dataclass(frozen=True, slots=True)
class LoggerProfile:
    """What the gateway needs to know about one logger."""

    id: int
    mn: str
    password: str
    outlet_id: int
    enterprise_id: int
    active: bool
    profile: Profile
    st: str
    init_on_connect: bool
    overtime: int
    recount: int
    is_total_control: bool

    @property
    def peer(self) -> Peer:
        return Peer(mn=self.mn, pw=self.password, st=self.st, profile=self.profile)


def load_profiles() -> dict[str, LoggerProfile]:
    """All loggers keyed by upper-case MN (runs in a thread with Django set up)."""
    from django.db import close_old_connections

    from totalcap.ingest.services import profile_for
    from totalcap.registry.choices import DeviceStatus
    from totalcap.registry.models import DataLogger

    close_old_connections()
    profiles = {}
    for logger in DataLogger.objects.select_related("outlet").order_by("pk"):
        profiles[logger.mn.upper()] = LoggerProfile(
            id=logger.pk,
            mn=logger.mn,
            password=logger.password or "",
            outlet_id=logger.outlet_id,
            enterprise_id=logger.outlet.enterprise_id,
            active=logger.status == DeviceStatus.ACTIVE,
            profile=profile_for(logger),
            st=logger.system_code or "32",
            init_on_connect=logger.init_on_connect,
            overtime=logger.overtime_seconds,
            recount=logger.recount,
            is_total_control=logger.is_total_control,
        )
    return profiles


class RegistryCache:
    """MN → :class:`LoggerProfile`, with reload bookkeeping (the reload itself is the caller's)."""

    def __init__(self, unknown_interval: float) -> None:
        self.by_mn: dict[str, LoggerProfile] = {}
        self.by_id: dict[int, LoggerProfile] = {}
        self.loaded_at = 0.0
        self.unknown_interval = unknown_interval
        self._last_unknown_reload = 0.0

    def replace(self, profiles: dict[str, LoggerProfile]) -> None:
        self.by_mn = profiles
        self.by_id = {p.id: p for p in profiles.values()}
        self.loaded_at = time.monotonic()
        log.info("registry loaded: %s loggers", len(profiles))

    def get(self, mn: str) -> LoggerProfile | None:
        profile = self.by_mn.get(mn)
        if profile is None:
            profile = self.by_mn.get(mn.upper())
        return profile

    def may_reload_for_unknown(self) -> bool:
        """True at most once per ``unknown_interval`` seconds."""
        now = time.monotonic()
        if now - self._last_unknown_reload >= self.unknown_interval:
            self._last_unknown_reload = now
            return True
        return False
