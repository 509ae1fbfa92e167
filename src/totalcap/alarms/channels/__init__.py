"""Notification channel adapters: one class per :class:`ChannelKind`, all behind one interface.

An adapter is built from the channel's ``config`` and sends one :class:`Message`; it returns a
:class:`Result` and never raises for delivery failures (network errors, refusals), so that the
delivery log records them and the job retries.
"""

from __future__ import annotations

from totalcap.alarms.channels.base import ChannelAdapter, ConfigError, Message, Result
from totalcap.alarms.channels.console import ConsoleSmsAdapter
from totalcap.alarms.channels.email import EmailAdapter
from totalcap.alarms.channels.http_sms import HttpSmsAdapter
from totalcap.alarms.channels.inapp import InAppAdapter
from totalcap.alarms.channels.wecom import WeComAdapter
from totalcap.alarms.choices import ChannelKind

ADAPTERS: dict[str, type[ChannelAdapter]] = {
    ChannelKind.SMS_CONSOLE: ConsoleSmsAdapter,
    ChannelKind.SMS_HTTP: HttpSmsAdapter,
    ChannelKind.WECOM: WeComAdapter,
    ChannelKind.EMAIL: EmailAdapter,
    ChannelKind.IN_APP: InAppAdapter,
}


def adapter_for(kind: str, config: dict[str, object]) -> ChannelAdapter:
    try:
        cls = ADAPTERS[kind]
    except KeyError as exc:
        raise ConfigError(f"unknown channel kind {kind!r}") from exc
    return cls(config)


__all__ = ["ADAPTERS", "ChannelAdapter", "ConfigError", "Message", "Result", "adapter_for"]
