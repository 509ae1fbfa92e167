"""SMS for development: write the message to the log and to ``var/notifications.log``."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from django.conf import settings

from totalcap.alarms.channels.base import ChannelAdapter, Message, Result

logger = logging.getLogger("totalcap.notify")


class ConsoleSmsAdapter(ChannelAdapter):
    """Pretends to be an SMS gateway: nothing leaves the machine."""

    def send(self, message: Message) -> Result:
        line = f"{datetime.now().isoformat(timespec='seconds')} SMS to {message.address} ({message.recipient_name}): {message.text}"
        logger.info("%s", line)
        path = Path(str(self.config.get("path") or Path(settings.VAR_DIR) / "notifications.log"))
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        return Result(ok=True, response=f"written to {path}")
