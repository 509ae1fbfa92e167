"""WeChat Work (企业微信) group robot: one text message to the group, mentioning the phone numbers.

Config: ``webhook_url`` (required).
"""

from __future__ import annotations

import json

from totalcap.alarms.channels.base import ChannelAdapter, Message, Result, post_json


class WeComAdapter(ChannelAdapter):
    required = ("webhook_url",)
    address_kind = "group"

    def send(self, message: Message) -> Result:
        body = {"msgtype": "text", "text": {"content": f"{message.title}\n{message.text}"}}
        if message.address and message.address != "group":
            body["text"]["mentioned_mobile_list"] = [message.address]  # type: ignore[index]
        try:
            status, text = post_json(
                str(self.config["webhook_url"]), body, timeout=float(self.config.get("timeout", 10))
            )
        except OSError as exc:
            return Result(ok=False, error=f"network: {exc}")
        try:
            errcode = json.loads(text).get("errcode")
        except (ValueError, AttributeError):
            errcode = None
        if status == 200 and errcode == 0:
            return Result(ok=True, response=text)
        return Result(ok=False, response=text, error=f"HTTP {status}, errcode {errcode}")
