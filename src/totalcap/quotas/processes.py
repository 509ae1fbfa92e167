"""``totalcap run`` (``make run``): the quotas app starts no process of its own, but before the
gateway and the simulator start it sets up total control for the demo (see :mod:`.demo`), so the
loop runs live: the simulated total-control loggers swipe their cards, consume, alarm and close.

Switched off with ``--no-demo`` or ``TOTALCAP_DEMO_QUOTAS=0``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from totalcap.base.processes import register
from totalcap.base.runner import Child

logger = logging.getLogger("totalcap.quotas")


@register
def quotas_demo(options: dict[str, Any]) -> list[Child]:
    if options.get("no_demo") or os.environ.get("TOTALCAP_DEMO_QUOTAS", "1") == "0":
        return []
    from totalcap.quotas.demo import setup_demo_quotas

    try:
        result = setup_demo_quotas()
    except Exception:  # the demo must never keep the platform from starting
        logger.exception("total-control demo setup failed")
        return []
    print("TotalCap: total-control demo:", "; ".join(result.enterprises) or "—", flush=True)
    for note in result.notes:
        print("  ", note, flush=True)
    return []
