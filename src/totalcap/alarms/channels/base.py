"""The adapter interface."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, ClassVar


class ConfigError(ValueError):
    """The channel's configuration is unusable (message says which key)."""


@dataclass(frozen=True)
class Message:
    """What to send: a title and a text for one recipient address."""

    title: str
    text: str
    address: str
    recipient_name: str = ""
    severity: str = "warning"
    alarm_id: int | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class Result:
    ok: bool
    response: str = ""
    error: str = ""
    retry: bool = True  # a failure worth retrying (network) or not (refused number)


class ChannelAdapter:
    """Base class: subclasses declare ``required`` config keys and implement :meth:`send`."""

    required: ClassVar[tuple[str, ...]] = ()
    address_kind: ClassVar[str] = "phone"  # phone | email | user | group

    def __init__(self, config: dict[str, Any]) -> None:
        missing = [key for key in self.required if not config.get(key)]
        if missing:
            raise ConfigError("缺少配置项：" + "、".join(missing))
        self.config = config

    def send(self, message: Message) -> Result:  # pragma: no cover - abstract
        raise NotImplementedError


def post_json(
    url: str, body: dict[str, Any], *, headers: dict[str, str] | None = None, timeout: float = 10.0
) -> tuple[int, str]:
    """POST a JSON body; returns (status, response text). Raises OSError on network failure."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("Content-Type", "application/json; charset=utf-8")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), response.read(65536).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read(65536).decode("utf-8", "replace")
