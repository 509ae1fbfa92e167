"""Use cases of the ingest app: reverse-control commands and device-reported state.

``send_command`` is what other apps call (web views, the API, jobs, the quotas app's post-commit
hook inside the gateway): it validates, stores the command in state *requested* and tells the
gateways (``NOTIFY ingest_command`` in the same transaction, plus in-process listeners after
commit). The gateway holding the logger's connection sends it and moves it through its life cycle
with the ``command_*`` functions below — each a transition of :data:`COMMAND_LIFE_CYCLE`, so each
is a domain event. "Sent" is never "executed": only the device's 9012 (or 9013) makes it so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hj212 import PROFILE_2005, PROFILE_2017, PROFILE_2025, Peer, Profile
from hj212.values import BEIJING, new_qn, next_qn
from totalcap.base import events
from totalcap.base.db import insert_unless_conflict
from totalcap.base.exceptions import PermissionRefused, ScopeViolation, ServiceError
from totalcap.base.transitions import apply_transition
from totalcap.ingest.catalogue import CommandSpec, ParamError, spec_for
from totalcap.ingest.choices import CommandState
from totalcap.ingest.models import Command, SiteInfo
from totalcap.ingest.transitions import COMMAND_LIFE_CYCLE
from totalcap.registry.choices import DeviceStatus, ValveState
from totalcap.registry.models import DataLogger, Valve

log = logging.getLogger("totalcap.ingest.services")

#: PostgreSQL channel on which new commands are announced (payload: the command id).
COMMAND_CHANNEL = "ingest_command"

#: ``listener(command_id, logger_id, prepared)``; ``prepared`` = (name, qn, params, attempts,
#: overtime, recount, state), so a gateway in this process can send without reading it back.
CommandListener = Callable[[int, int, tuple[Any, ...]], None]
_listeners: list[CommandListener] = []


def add_command_listener(listener: CommandListener) -> None:
    """Call ``listener(command_id, logger_id, prepared)`` after a command is committed in this process."""
    if listener not in _listeners:
        _listeners.append(listener)


def remove_command_listener(listener: CommandListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


# ------------------------------------------------------------------------------------ profiles


def profile_for(logger: DataLogger) -> Profile:
    """The HJ 212 profile of a logger, from the registry (never guessed from traffic)."""
    base = {"2005": PROFILE_2005, "2025": PROFILE_2025}.get(logger.protocol_version, PROFILE_2017)
    return base.replace(
        crc_mode=logger.crc_mode,
        ack_when_flag_absent=logger.ack_when_flag_absent,
        totalcap_extension=bool(logger.is_total_control),
        name=f"{base.name}/{logger.mn}",
    )


def peer_for(logger: DataLogger) -> Peer:
    """The :class:`hj212.Peer` used to build frames for ``logger``."""
    return Peer(
        mn=logger.mn, pw=logger.password or "", st=logger.system_code or "32", profile=profile_for(logger)
    )


# ------------------------------------------------------------------------------------ commands


def _check_actor(actor: Any, logger: DataLogger, spec: CommandSpec) -> None:
    if actor is None or isinstance(actor, str):
        return
    if not actor.has_perm("ingest.send_command"):
        raise PermissionRefused(_("您没有下发反控命令的权限。"))
    if spec.valve and not actor.has_perm("ingest.control_valve"):
        raise PermissionRefused(_("您没有控制阀门或下发排放量的权限。"))
    if not DataLogger.objects.restrict(actor, "view").filter(pk=logger.pk).exists():
        raise ScopeViolation(_("该数采仪不在您的管辖范围内。"))


def _check_logger(logger: DataLogger, spec: CommandSpec) -> None:
    if logger.status != DeviceStatus.ACTIVE:
        raise ServiceError(
            _("数采仪「%(mn)s」已停用，不能下发命令。") % {"mn": logger.mn}, code="logger_disabled"
        )
    if spec.requires == "totalcap" and not logger.is_total_control:
        raise ServiceError(
            _("「%(label)s」只适用于总量控制仪（TotalCap 扩展协议）。") % {"label": spec.label},
            code="not_total_control",
        )
    if spec.requires == "2025" and logger.protocol_version != "2025":
        raise ServiceError(
            _("「%(label)s」是 HJ 212-2025 命令，该数采仪使用 %(version)s。")
            % {"label": spec.label, "version": logger.protocol_version},
            code="needs_2025",
        )


def send_command(
    actor: Any,
    logger: DataLogger,
    command: str,
    params: dict[str, Any] | None = None,
    *,
    expires_in: timedelta | None = None,
    source: str = "",
    dedupe_key: str | None = None,
) -> Command:
    """Queue ``command`` (a name of :mod:`totalcap.ingest.catalogue`, e.g. ``close_valve``) for ``logger``.

    ``actor`` is a user (needs ``ingest.send_command``, and ``ingest.control_valve`` for valve and
    allowance commands, and the logger in scope), ``None`` or a label such as ``"quotas"`` for the
    system. The command is sent as soon as the logger is connected, at the latest when it
    reconnects before ``expires_in`` (default per command, 24 h for most). With ``dedupe_key`` a
    second call with the same key returns the first command instead of creating another.
    Raises :class:`ServiceError` (Chinese message, ``field`` for a bad parameter).
    """
    try:
        spec = spec_for(command)
        cleaned = spec.clean(params)
    except ParamError as exc:
        raise ServiceError(exc.message, code="invalid", field=exc.field) from exc
    _check_actor(actor, logger, spec)
    _check_logger(logger, spec)
    if dedupe_key:
        existing = Command.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    now = timezone.now()
    try:
        spec.frame(peer_for(logger), cleaned, new_qn(now))  # refuse now what could not be built later
    except ParamError as exc:
        raise ServiceError(exc.message, code="invalid", field=exc.field) from exc
    if isinstance(actor, str):
        label, user = actor, None
    elif actor is None:
        label, user = "system", None
    else:
        label, user = actor.get_username(), actor
    qn = new_qn(now)
    # No savepoint: the insert tells a QN already taken (two commands for one logger in the same
    # millisecond) or a dedupe key already used without an error, and sends the notification to
    # other gateways in the same statement; a command that cannot be written dooms the caller's
    # transaction (a quota crossing's), as its event would.
    with transaction.atomic(savepoint=False):
        for _attempt in range(50):
            cmd = Command(
                logger=logger,
                name=spec.name,
                cn=spec.cn,
                params=cleaned,
                qn=qn,
                source=source or ("web" if user else label),
                dedupe_key=dedupe_key or None,
                requested_by=user,
                requested_by_label=label[:150],
                requested_at=now,
                expires_at=now + (expires_in if expires_in is not None else spec.default_expiry),
                overtime_seconds=logger.overtime_seconds,
                recount=logger.recount,
            )
            if insert_unless_conflict(cmd, notify=COMMAND_CHANNEL):
                break
            if dedupe_key and Command.objects.filter(dedupe_key=dedupe_key).exists():
                return Command.objects.get(dedupe_key=dedupe_key)
            qn = next_qn(qn)
        else:  # pragma: no cover - 50 collisions in a row
            raise ServiceError(_("无法分配请求编码，请稍后重试。"))
        events.record(
            actor,
            cmd,
            "requested",
            {"command": spec.name, "cn": spec.cn, "params": cleaned, "qn": qn, "expires_at": cmd.expires_at},
        )
        command_id, logger_id = cmd.pk, logger.pk
        prepared = (
            cmd.name,
            cmd.qn,
            cmd.params,
            0,
            cmd.overtime_seconds,
            cmd.recount,
            CommandState.REQUESTED.value,
        )
        transaction.on_commit(lambda: _announce(command_id, logger_id, prepared))
    return cmd


def _announce(command_id: int, logger_id: int, prepared: tuple[Any, ...]) -> None:
    for listener in list(_listeners):
        try:
            listener(command_id, logger_id, prepared)
        except Exception:  # pragma: no cover - a listener must not break the caller
            log.exception("command listener failed")


async def asend_command(
    actor: Any,
    logger: DataLogger | int,
    command: str,
    params: dict[str, Any] | None = None,
    **options: Any,
) -> Command:
    """:func:`send_command` for async code (post-commit hooks in the gateway); ``logger`` may be an id."""

    def run() -> Command:
        target = logger if isinstance(logger, DataLogger) else DataLogger.objects.get(pk=logger)
        return send_command(actor, target, command, params, **options)

    return await sync_to_async(run, thread_sensitive=False)()


def cancel_command(actor: Any, command: Command) -> Command:
    """Withdraw a command that has not been sent yet."""
    result: Command = apply_transition(COMMAND_LIFE_CYCLE, command, "cancel", actor, {"at": timezone.now()})
    return result


def _system(gateway: str) -> str:
    return f"gateway:{gateway}" if gateway else "gateway"


def _apply(
    command_id: int, action: str, gateway: str, params: dict[str, Any], payload: dict[str, Any]
) -> Command:
    cmd = Command.objects.get(pk=command_id)
    result: Command = apply_transition(
        COMMAND_LIFE_CYCLE, cmd, action, _system(gateway), params, payload=events.normalise(payload)
    )
    return result


def command_sent(command_id: int, *, gateway: str, at: datetime) -> Command:
    """The request left the gateway (first time: send; again: resend)."""
    state = Command.objects.filter(pk=command_id).values_list("state", flat=True).get()
    action = "send" if state == CommandState.REQUESTED else "resend"
    return _apply(command_id, action, gateway, {"at": at, "gateway": gateway}, {"at": at})


def command_answered(command_id: int, qn_rtn: int, *, gateway: str, at: datetime) -> Command:
    """9011 arrived: QnRtn=1 accepts, anything else rejects (the code is kept)."""
    from hj212 import codes

    if qn_rtn == 1:
        return _apply(command_id, "accept", gateway, {"at": at, "qn_rtn": qn_rtn}, {"qn_rtn": qn_rtn})
    meaning = codes.qn_rtn_meaning(str(qn_rtn)) or "unknown"
    return _apply(
        command_id,
        "reject",
        gateway,
        {"at": at, "qn_rtn": qn_rtn, "error": f"QnRtn={qn_rtn} ({meaning})"},
        {"qn_rtn": qn_rtn, "meaning": meaning},
    )


def command_executed(command_id: int, exe_rtn: int | None, *, gateway: str, at: datetime) -> Command:
    """9012 arrived (``exe_rtn`` None: the 9013 answer to a notification). ExeRtn=1 executes."""
    from hj212 import codes

    if exe_rtn is None or exe_rtn == 1:
        with transaction.atomic():
            cmd = _apply(command_id, "execute", gateway, {"at": at, "exe_rtn": exe_rtn}, {"exe_rtn": exe_rtn})
            _after_execution(cmd, gateway)
        return cmd
    meaning = codes.exe_rtn_meaning(str(exe_rtn)) or "unknown"
    return _apply(
        command_id,
        "fail",
        gateway,
        {"at": at, "exe_rtn": exe_rtn, "error": f"ExeRtn={exe_rtn} ({meaning})"},
        {"exe_rtn": exe_rtn, "meaning": meaning},
    )


def _after_execution(cmd: Command, gateway: str) -> None:
    """Effects of an executed command on the registry (the device confirmed it)."""
    if cmd.name == "set_password":
        logger = DataLogger.objects.select_for_update(no_key=True).get(pk=cmd.logger_id)
        logger.password = cmd.params["new_pw"]
        logger.save(update_fields=["password", "updated_at"])
        events.record(_system(gateway), logger, "password_changed", {"command": cmd.pk})
    elif cmd.name == "set_timeout":
        logger = DataLogger.objects.select_for_update(no_key=True).get(pk=cmd.logger_id)
        logger.overtime_seconds = cmd.params["overtime"]
        logger.recount = cmd.params["recount"]
        logger.save(update_fields=["overtime_seconds", "recount", "updated_at"])
        events.record(
            _system(gateway),
            logger,
            "timeout_changed",
            {"command": cmd.pk, "overtime": logger.overtime_seconds},
        )


def command_result(command_id: int, cn: str, items: dict[str, Any], *, history: bool, at: datetime) -> None:
    """Data answering a "get" command arrived (stored on the command; history records only counted)."""
    with transaction.atomic():
        cmd = Command.objects.select_for_update(no_key=True).get(pk=command_id)
        cmd.records += 1
        if history:
            window = dict(cmd.result or {})
            stamp = str(items.get("DataTime", ""))
            if stamp:
                window["first"] = min(window.get("first", stamp), stamp)
                window["last"] = max(window.get("last", stamp), stamp)
            cmd.result = window
            cmd.save(update_fields=["records", "result", "updated_at"])
            return
        results = list((cmd.result or {}).get("answers", []))
        results.append({"cn": cn, "at": at.isoformat(), "items": items})
        cmd.result = {"answers": results[-20:]}
        cmd.save(update_fields=["records", "result", "updated_at"])
        events.record(_system(cmd.gateway), cmd, "result_received", {"cn": cn, "items": items})


def command_history_summary(command_id: int, *, records: int, first: str, last: str) -> None:
    """How many records a history query returned and their DataTime range (before its end transition)."""
    Command.objects.filter(pk=command_id).update(records=records, result={"first": first, "last": last})


def command_timed_out(command_id: int, reason: str, *, gateway: str, at: datetime) -> Command:
    """No 9011 after ReCount tries, or no 9012 / data within the execution timeout."""
    return _apply(command_id, "time_out", gateway, {"at": at, "error": reason}, {"reason": reason})


def expire_commands(now: datetime | None = None) -> list[int]:
    """Mark requested commands past their expiry as expired; returns their ids."""
    now = now or timezone.now()
    expired = []
    ids = Command.objects.filter(state=CommandState.REQUESTED, expires_at__lte=now).values_list(
        "pk", flat=True
    )
    for command_id in list(ids):
        try:
            _apply(command_id, "expire", "", {"at": now, "error": "expired before it could be sent"}, {})
            expired.append(command_id)
        except ServiceError:
            continue  # sent or cancelled meanwhile
    return expired


# ------------------------------------------------------------------------------------ valves

#: The valve states the TotalCap extension profile reports as ``i32101`` values (3020).
VALVE_STATES = {0: ValveState.OPEN, 1: ValveState.CLOSED, 2: ValveState.MOVING, 3: ValveState.FAULT}
#: The 3020 i-code of a valve's state in the TotalCap extension profile.
VALVE_STATE_CODE = "i32101"


def valve_number(code: str) -> int | None:
    """The ``ValveId`` of a registry valve code (``V01`` → 1)."""
    digits = "".join(ch for ch in code if ch.isdigit())
    return int(digits) if digits else None


def _stored_from_another_frame(logger_id: int, at: datetime, frame_id: int | None) -> bool:
    """The logger's valve state at ``at`` was stored from another frame: this one is a re-send."""
    if frame_id is None:
        return False
    return (
        SiteInfo.objects.filter(logger_id=logger_id, code=VALVE_STATE_CODE, observed_at=at)
        .exclude(frame_id=frame_id)
        .exists()
    )


def report_valve_state(
    logger_id: int,
    valve_id: int,
    state: int | None,
    *,
    at: datetime,
    received_at: datetime | None = None,
    frame_id: int | None = None,
    live: bool = False,
) -> Valve | None:
    """A logger reported its valve state (3020 ``i32101``; 3813 offline action).

    The valve is the logger's valve whose code number equals ``valve_id`` (``V01`` ↔ 1), or its
    only valve. A change of state is a domain event; a repeated state only refreshes the report
    times. ``at`` is the logger's clock (``DataTime``), ``received_at`` the platform's (the frame's
    arrival; now when not given).

    A report is ignored (and the valve returned unchanged: its ``state_reported_at`` /
    ``state_received_at`` then differ from ``at`` / ``received_at``) when

    * it arrived before the report the valve shows: the gateway's two writer connections commit
      batches concurrently, so reports are not always handled in the order they arrived;
    * it is older by the logger's clock than the last report and describes the past: a 3813 kept
      while offline, or a re-sent 3020 (an upload whose ack the logger missed: its item is already
      stored from another frame). A ``live`` report (3020: the state now) is applied even then,
      since a logger whose clock was set back (a 1012 time sync) still reports the valve as it is.

    The gateway and the total-control hook both hand every report here; the second call for the
    same frame changes nothing.
    """
    target = VALVE_STATES.get(state) if state is not None else None
    received_at = received_at or timezone.now()
    with transaction.atomic():
        valves = list(Valve.objects.select_for_update(no_key=True).filter(logger_id=logger_id).order_by("pk"))
        valve = next((v for v in valves if valve_number(v.code) == valve_id), None)
        if valve is None and len(valves) == 1:
            valve = valves[0]
        if valve is None:
            return None
        if valve.state_received_at is not None and valve.state_received_at > received_at:
            return valve  # a report that arrived earlier, handled late
        if (
            valve.state_reported_at is not None
            and valve.state_reported_at > at
            and (not live or _stored_from_another_frame(logger_id, at, frame_id))
        ):
            return valve  # an older report of the past
        changed = target is not None and valve.state != target
        before = valve.state
        if target is not None:
            valve.state = target
        valve.state_reported_at = at
        valve.state_received_at = received_at
        valve.save(update_fields=["state", "state_reported_at", "state_received_at", "updated_at"])
        if changed:
            events.record(
                f"logger:{valve.logger_id}",
                valve,
                "state_reported",
                {"from": before, "to": valve.state, "at": at.astimezone(BEIJING), "frame_id": frame_id},
            )
    return valve
