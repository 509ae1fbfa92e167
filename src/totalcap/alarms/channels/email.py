"""E-mail over SMTP.

Config: ``host`` (required), ``port`` (25), ``sender`` (required), ``username`` / ``password``,
``starttls`` (bool), ``timeout``.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from totalcap.alarms.channels.base import ChannelAdapter, Message, Result


class EmailAdapter(ChannelAdapter):
    required = ("host", "sender")
    address_kind = "email"

    def send(self, message: Message) -> Result:
        cfg = self.config
        mail = EmailMessage()
        mail["From"] = str(cfg["sender"])
        mail["To"] = message.address
        mail["Subject"] = f"[TotalCap] {message.title}"
        mail.set_content(message.text, charset="utf-8")
        try:
            with smtplib.SMTP(
                str(cfg["host"]), int(cfg.get("port", 25)), timeout=float(cfg.get("timeout", 10))
            ) as smtp:
                if cfg.get("starttls"):
                    smtp.starttls()
                if cfg.get("username"):
                    smtp.login(str(cfg["username"]), str(cfg.get("password", "")))
                refused = smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            return Result(ok=False, error=f"recipient refused: {exc.recipients}", retry=False)
        except (OSError, smtplib.SMTPException) as exc:
            return Result(ok=False, error=f"smtp: {exc}")
        if refused:
            return Result(ok=False, error=f"refused: {refused}", retry=False)
        return Result(ok=True, response="250 accepted")
