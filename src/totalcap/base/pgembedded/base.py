"""PostgreSQL backend that connects to the embedded server, starting it when needed."""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base as pg_base

from totalcap.base.embedded import ensure_server
from totalcap.base.pgembedded.client import DatabaseClient


class DatabaseWrapper(pg_base.DatabaseWrapper):
    """The stock PostgreSQL backend with host and port taken from the embedded server."""

    client_class = DatabaseClient

    def get_connection_params(self) -> dict[str, Any]:
        info = ensure_server()
        self.settings_dict["HOST"] = info.host
        self.settings_dict["PORT"] = str(info.port)
        self.settings_dict.setdefault("USER", info.user)
        if not self.settings_dict.get("USER"):
            self.settings_dict["USER"] = info.user
        return super().get_connection_params()
