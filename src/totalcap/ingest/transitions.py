"""The life cycle of a reverse-control command.

::

    requested ──send──▶ sent ──accept (9011 QnRtn=1)──▶ accepted ──execute (9012 ExeRtn=1)──▶ executed
        │                 │  ╰─reject (9011 QnRtn≠1)──▶ rejected   ╰─fail (9012 ExeRtn≠1)──▶ failed
        │                 ├─resend (no 9011 within OverTime, up to ReCount)
        │                 ├─execute / fail (9012 without a 9011 first; 9013 for notifications)
        │                 ╰─time_out ──▶ timed_out  (also from accepted: no 9012 / data in time)
        ├─expire ──▶ expired (not sent before expires_at, e.g. the logger stayed offline)
        ╰─cancel ──▶ cancelled (by a user, only before it was sent)

Every row but ``cancel`` is system-only: only the gateway (the device's answers) moves a command.
"""

from __future__ import annotations

from typing import Any

from totalcap.base.transitions import Transition, TransitionTable
from totalcap.ingest.choices import CommandState as S
from totalcap.ingest.models import Command


def _set(**fields: str) -> Any:
    """An effect copying params into fields: ``_set(sent_at="at")``."""

    def effect(obj: Any, actor: Any, params: dict[str, Any]) -> None:
        for attr, key in fields.items():
            if key in params:
                setattr(obj, attr, params[key])

    return effect


def _sent(obj: Any, actor: Any, params: dict[str, Any]) -> None:
    obj.attempts += 1
    obj.last_sent_at = params["at"]
    if obj.sent_at is None:
        obj.sent_at = params["at"]
    obj.gateway = params.get("gateway", obj.gateway)


def _done(obj: Any, actor: Any, params: dict[str, Any]) -> None:
    obj.completed_at = params["at"]
    if "exe_rtn" in params:
        obj.exe_rtn = params["exe_rtn"]
    if "qn_rtn" in params:
        obj.qn_rtn = params["qn_rtn"]
    if "error" in params:
        obj.error = str(params["error"])[:255]


def _cancel_guard(obj: Any, actor: Any, params: dict[str, Any]) -> str | None:
    return None if obj.state == S.REQUESTED else "命令已发送，不能撤销。"


COMMAND_LIFE_CYCLE = TransitionTable(
    Command,
    "state",
    [
        Transition((S.REQUESTED,), "send", S.SENT, "发送", effect=_sent, system_only=True),
        Transition((S.SENT,), "resend", S.SENT, "重发", effect=_sent, system_only=True),
        Transition(
            (S.SENT,), "accept", S.ACCEPTED, "设备接受", effect=_set(accepted_at="at", qn_rtn="qn_rtn"),
            system_only=True,
        ),
        Transition((S.SENT,), "reject", S.REJECTED, "设备拒绝", effect=_done, system_only=True),
        Transition((S.SENT, S.ACCEPTED), "execute", S.EXECUTED, "执行成功", effect=_done, system_only=True),
        Transition((S.SENT, S.ACCEPTED), "fail", S.FAILED, "执行失败", effect=_done, system_only=True),
        Transition((S.SENT, S.ACCEPTED), "time_out", S.TIMED_OUT, "超时", effect=_done, system_only=True),
        Transition((S.REQUESTED,), "expire", S.EXPIRED, "过期", effect=_done, system_only=True),
        Transition(
            (S.REQUESTED,), "cancel", S.CANCELLED, "撤销", permission="ingest.send_command",
            guard=_cancel_guard, effect=_done,
        ),
    ],
)  # fmt: skip
