"""``totalcap dbshell`` for the embedded server: start it, then run psql against its socket."""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql.client import DatabaseClient as PostgresClient

from totalcap.base.embedded import ensure_server


class DatabaseClient(PostgresClient):
    @classmethod
    def settings_to_cmd_args_env(cls, settings_dict: Any, parameters: Any) -> Any:
        info = ensure_server()
        settings_dict = {**settings_dict, "HOST": info.host, "PORT": str(info.port)}
        return super().settings_to_cmd_args_env(settings_dict, parameters)
