"""SMS through an HTTP gateway (the common shape of Chinese SMS platforms).

Config: ``url`` (required), ``sign`` (SMS signature, e.g. 【泰州生态环境】), ``token`` (sent as
``Authorization: Bearer``), ``phone_field`` / ``text_field`` (body keys, default ``phone`` /
``content``), ``success_field`` and ``success_value`` (e.g. ``code`` / ``0``) to read the gateway's
own verdict from a JSON answer, ``timeout`` seconds.
"""

from __future__ import annotations

import json

from totalcap.alarms.channels.base import ChannelAdapter, Message, Result, post_json


class HttpSmsAdapter(ChannelAdapter):
    required = ("url",)

    def send(self, message: Message) -> Result:
        cfg = self.config
        body = {
            str(cfg.get("phone_field") or "phone"): message.address,
            str(cfg.get("text_field") or "content"): f"{cfg.get('sign', '')}{message.text}",
        }
        headers = {"Authorization": f"Bearer {cfg['token']}"} if cfg.get("token") else {}
        try:
            status, text = post_json(
                str(cfg["url"]), body, headers=headers, timeout=float(cfg.get("timeout", 10))
            )
        except OSError as exc:
            return Result(ok=False, error=f"network: {exc}", retry=True)
        if not 200 <= status < 300:
            return Result(
                ok=False, response=text, error=f"HTTP {status}", retry=status >= 500 or status == 429
            )
        field = cfg.get("success_field")
        if field:
            try:
                verdict = json.loads(text).get(field)
            except (ValueError, AttributeError):
                return Result(ok=False, response=text, error="gateway answer is not JSON", retry=True)
            if str(verdict) != str(cfg.get("success_value", "0")):
                return Result(
                    ok=False, response=text, error=f"gateway refused: {field}={verdict}", retry=False
                )
        return Result(ok=True, response=text)
