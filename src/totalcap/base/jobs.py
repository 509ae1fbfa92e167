"""Background and periodic jobs: a thin layer over procrastinate's Postgres-backed queue.

Apps declare jobs in their own ``jobs.py`` (auto-discovered) with :func:`job` and
:func:`periodic`; services queue them with :func:`defer`, which writes the job row in the
caller's transaction, so a job exists exactly when the change that asked for it was committed.
The worker runs as ``totalcap worker`` (``make run`` starts one).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from procrastinate.contrib.django import app

logger = logging.getLogger("totalcap.jobs")

DEFAULT_QUEUE = "default"


def job(name: str, *, queue: str = DEFAULT_QUEUE, retry: int = 3, **options: Any) -> Callable[..., Any]:
    """Declare a job: ``@job("registry.refresh_counts")``."""
    return app.task(name=name, queue=queue, retry=retry, **options)


def periodic(cron: str, name: str, *, queue: str = DEFAULT_QUEUE) -> Callable[..., Any]:
    """Declare a periodic job (cron syntax, optional 6th field for seconds).

    The decorated function receives ``timestamp`` (the scheduled Unix time) as keyword.
    """

    def wrap(func: Callable[..., Any]) -> Any:
        task = app.task(name=name, queue=queue, pass_context=False)(func)
        return app.periodic(cron=cron)(task)

    return wrap


def defer(
    name: str,
    *,
    queue: str | None = None,
    lock: str | None = None,
    delay_seconds: float | None = None,
    **kwargs: Any,
) -> int:
    """Queue the job ``name`` with ``kwargs`` (to run after ``delay_seconds``); returns the job id."""
    options: dict[str, Any] = {}
    if queue:
        options["queue"] = queue
    if lock:
        options["lock"] = lock
    if delay_seconds:
        options["schedule_in"] = {"seconds": delay_seconds}
    return int(app.configure_task(name=name, **options).defer(**kwargs))


def run_pending(queues: list[str] | None = None) -> None:
    """Run every queued job now and return (tests; in production ``totalcap worker`` runs them).

    Like ``totalcap worker``, it runs on procrastinate's worker connector (its own psycopg
    connection): Django's connection hands JSON columns back as text, which the worker cannot read
    job arguments from. Jobs must therefore be committed before they run here.
    """
    import asyncio

    async def drain() -> None:
        async with app.open_async():
            options: dict[str, Any] = {"queues": queues} if queues else {}
            await app.run_worker_async(
                wait=False, install_signal_handlers=False, listen_notify=False, **options
            )

    failure: list[BaseException] = []

    def run() -> None:  # in a thread of its own: the caller's thread may already run an event loop
        try:
            asyncio.run(drain())
        except BaseException as exc:  # handed back to the caller
            failure.append(exc)

    with app.replace_connector(app.connector.get_worker_connector()):  # type: ignore[attr-defined]
        worker = threading.Thread(target=run, name="run-pending")
        worker.start()
        worker.join()
    if failure:
        raise failure[0]


@periodic("17 3 * * *", name="base.verify_event_chain")
def verify_event_chain(timestamp: int) -> None:
    """Nightly: recompute the domain-event hash chain and log the result."""
    from totalcap.base.events import verify_chain

    report = verify_chain()
    if report.ok:
        logger.info("event chain verified: %s events, head %s", report.checked, report.head)
    else:
        assert report.broken is not None
        logger.error(
            "event chain BROKEN at event #%s (%s): stored %s, expected %s",
            report.broken.event_id,
            report.broken.reason,
            report.broken.stored,
            report.broken.expected,
        )
