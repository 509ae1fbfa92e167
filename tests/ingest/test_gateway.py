"""The gateway's core promises: store, then ack; duplicates once; bad frames answered and counted."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import connection

from hj212 import build
from hj212 import commands as c
from hj212.values import BEIJING
from totalcap.ingest.models import LoggerSession, RawFrame
from totalcap.registry.models import DataLogger

from .conftest import Device, ThreadedGateway, wait_for


def water_logger(world: Any) -> DataLogger:
    return DataLogger.objects.get(outlet__enterprise=world.e_own, outlet__code="DW001")


def samples(logger_id: int, kind: str = "r") -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pollutant, data_time, value, flag, frame_id FROM monitoring_sample "
            "WHERE logger_id = %s AND kind = %s ORDER BY data_time, pollutant",
            [logger_id, kind],
        )
        return cur.fetchall()


def test_upload_is_stored_then_acked(gateway: Any, tx_world: Any) -> None:
    logger = water_logger(tx_world)
    device = Device(gateway.port, logger.mn)
    at = datetime(2026, 1, 5, 10, 0, 0, tzinfo=BEIJING)
    frame = device.realtime({"w01018": "35.2", "w00000": "12.5"}, at=at)
    ack = device.receive()
    assert ack is not None and ack.cn == "9014" and ack.qn == frame.qn
    rows = samples(logger.pk)
    assert [(r[0], r[2]) for r in rows if r[1] == at] == [("w00000", 12.5), ("w01018", 35.2)] or len(
        rows
    ) >= 2
    stored = {r[0]: r for r in rows if r[1] == at}
    assert str(stored["w01018"][2]) == "35.200000" and stored["w01018"][3] == "N"
    raw = RawFrame.objects.get(pk=stored["w01018"][4])
    assert bytes(raw.raw) == build(frame) and raw.status == "ok" and raw.logger_id == logger.pk
    # the same frame again: stored raw, values once, acked again
    device.send(frame)
    assert device.receive().cn == "9014"
    assert len([r for r in samples(logger.pk) if r[1] == at]) == 2
    assert RawFrame.objects.filter(logger=logger, qn=frame.qn, direction="i").count() == 2
    wait_for(lambda: LoggerSession.objects.filter(logger=logger, online=True).exists())
    device.close()


def test_unknown_mn_and_wrong_password(gateway: Any, tx_world: Any) -> None:
    stranger = Device(gateway.port, "FFFFFFFFFFFFFFFFFFFFFFFF")
    frame = stranger.realtime({"w01018": "1"})
    answer = stranger.receive()
    assert answer is not None and answer.cn == "9011" and answer.cp.plain["QnRtn"] == "4"
    assert wait_for(lambda: RawFrame.objects.filter(qn=frame.qn, status="unknown_mn").exists())
    logger = water_logger(tx_world)
    liar = Device(gateway.port, logger.mn, pw="000000")
    liar.realtime({"w01018": "1"})
    answer = liar.receive()
    assert answer is not None and answer.cn == "9011" and answer.cp.plain["QnRtn"] == "3"
    stranger.close()
    liar.close()


def test_no_ack_when_flag_a_is_zero(gateway: Any, tx_world: Any) -> None:
    logger = water_logger(tx_world)
    device = Device(gateway.port, logger.mn)
    frame = c.upload_data(device.peer, 2051, datetime(2026, 1, 5, 10, 1, tzinfo=BEIJING),
                          {"w01018": {"Avg": "3.0", "Cou": "1.5", "Flag": "N"}}, ack=False)  # fmt: skip
    device.send(frame)
    assert device.receive(timeout=0.5) is None
    assert wait_for(lambda: samples(logger.pk, "m"))
    device.close()


def test_bad_frames_close_the_connection(make_gateway: Any, tx_world: Any) -> None:
    gw = make_gateway(bad_frame_limit=3)
    logger = water_logger(tx_world)
    device = Device(gw.port, logger.mn, pw="bad")
    for _ in range(3):
        device.realtime({"w01018": "1"})
    assert wait_for(lambda: device.sock.recv(65536) == b"" if _drain(device) else False, timeout=5)


def _drain(device: Device) -> bool:
    device.sock.settimeout(0.2)
    try:
        while True:
            data = device.sock.recv(65536)
            if not data:
                return True
    except TimeoutError:
        return False
    except OSError:
        return True


def test_split_message_is_reassembled(gateway: Any, tx_world: Any) -> None:
    from hj212 import CP, build_frames, make_frame

    logger = water_logger(tx_world)
    device = Device(gateway.port, logger.mn)
    subjects = {
        f"w{21000 + i}": {"Avg": "2.345", "Min": "1.0", "Max": "3.456", "Cou": "12.5", "Flag": "N"}
        for i in range(30)
    }
    message = make_frame(2061, qn="20260105110000000", st="32", mn=logger.mn, pw="123456", flag=5,
                         cp=CP.build({"DataTime": "20260105100000"}, subjects))  # fmt: skip
    packets = build_frames(message)
    assert len(packets) > 1
    for packet in packets:
        device.send(packet)
    acks = [device.receive() for _ in packets]
    assert all(a is not None and a.cn == "9014" for a in acks)
    at = datetime(2026, 1, 5, 10, 0, tzinfo=BEIJING)
    assert len([r for r in samples(logger.pk, "h") if r[1] == at]) == 30
    device.close()


def test_frame_without_crlf_is_taken_after_a_silence(make_gateway: Any, tx_world: Any) -> None:
    gw = make_gateway(flush_after=0.2)
    logger = water_logger(tx_world)
    device = Device(gw.port, logger.mn)
    frame = c.upload_data(
        device.peer, 2011, datetime(2026, 1, 5, 12, 0, tzinfo=BEIJING), {"w01018": {"Rtd": "9"}}
    )
    device.send(build(frame)[:-2])
    ack = device.receive(timeout=3)
    assert ack is not None and ack.cn == "9014"
    device.close()


def test_takeover_closes_the_old_connection(gateway: Any, tx_world: Any) -> None:
    logger = water_logger(tx_world)
    first = Device(gateway.port, logger.mn)
    first.realtime({"w01018": "1"}, at=datetime.now(BEIJING) - timedelta(seconds=5))
    assert first.receive() is not None
    second = Device(gateway.port, logger.mn)
    second.realtime({"w01018": "2"})
    assert second.receive() is not None
    assert wait_for(lambda: _drain(first), timeout=5)
    second.close()


def test_takeover_across_gateways_the_newest_binding_wins(make_gateway: Any, tx_world: Any) -> None:
    """A logger reconnecting to another gateway behind the load balancer: the first gateway drops its
    connection when the second one's claim arrives; a late claim of an older binding drops nothing."""
    import json

    from totalcap.ingest.gateway.server import _epoch_ms

    logger = water_logger(tx_world)
    a, b = make_gateway(), make_gateway()
    first = Device(a.port, logger.mn)
    first.realtime({"w01018": "1"}, at=datetime.now(BEIJING) - timedelta(seconds=5))
    assert (ack := first.receive()) is not None and ack.cn == "9014"
    second = Device(b.port, logger.mn)
    second.realtime({"w01018": "2"})
    assert (ack := second.receive()) is not None and ack.cn == "9014"
    assert wait_for(lambda: _drain(first), timeout=5)
    assert not a.gateway.sessions[logger.pk].online

    session = b.gateway.sessions[logger.pk]
    assert session.online and session.connected_at is not None
    ours = _epoch_ms(session.connected_at)

    def claim(at: int) -> str:
        return json.dumps({"gateway": a.config.name, "loggers": [logger.pk], "bound_ms": [at]})

    b.call(b.gateway.session_claimed, claim(ours - 1000))  # A's old binding, announced late
    assert b.gateway.sessions[logger.pk].online
    second.realtime({"w01018": "3"}, at=datetime.now(BEIJING) + timedelta(seconds=1))
    assert (ack := second.receive()) is not None and ack.cn == "9014"
    b.call(b.gateway.session_claimed, claim(ours + 1000))  # a newer binding elsewhere
    assert wait_for(lambda: _drain(second), timeout=5)
    assert not b.gateway.sessions[logger.pk].online


def test_card_swipe_and_valve_report_reach_hooks_and_registry(gateway: Any, tx_world: Any) -> None:
    import time

    from hj212 import PROFILE_TOTALCAP, Peer
    from hj212 import totalcap as tc
    from totalcap.ingest import hooks
    from totalcap.ingest.models import SiteInfo
    from totalcap.registry.models import Valve

    logger = water_logger(tx_world)
    seen: list[hooks.DeviceMessage] = []

    async def collect(batch: hooks.CommittedBatch) -> None:
        seen.extend(batch.messages)

    hooks.register(collect)
    try:
        device = Device(gateway.port, logger.mn)
        peer = Peer(logger.mn, "123456", "32", PROFILE_TOTALCAP)
        device.send(tc.card_swipe(peer, "04A1B2C3D4", "20260105080005"))
        assert device.receive().cn == "9014"
        device.send(tc.valve_action_report(peer, "20260105090000", 1, 1, 0))
        assert device.receive().cn == "9014"
        assert wait_for(lambda: len(seen) >= 2)
        time.sleep(0.2)
        device.close()
    finally:
        hooks.unregister(collect)
    swipe = next(m for m in seen if m.cn == "3811")
    assert swipe.items["CardUid"] == "04A1B2C3D4" and swipe.logger_id == logger.pk
    assert SiteInfo.objects.filter(logger=logger, source="3811", value="04A1B2C3D4").exists()
    assert wait_for(lambda: Valve.objects.get(logger=logger).state == "closed")


def test_hooks_get_each_new_value_once_on_both_store_paths(gateway: Any, tx_world: Any) -> None:
    """Live data go straight into the sample store by COPY; a batch that re-sends a stored value falls
    back to the staged ``ON CONFLICT`` insert. Either way a hook sees exactly the newly stored values,
    and only for the outlets it asks for."""
    from totalcap.ingest import hooks

    logger = water_logger(tx_world)
    batches: list[hooks.CommittedBatch] = []
    mine: list[hooks.SampleRecord] = []
    others: list[hooks.SampleRecord] = []

    async def collect(batch: hooks.CommittedBatch) -> None:
        batches.append(batch)
        mine.extend(batch.samples_for({logger.outlet_id}))
        others.extend(batch.samples_for({logger.outlet_id + 10_000}))

    hooks.register(collect)
    try:
        device = Device(gateway.port, logger.mn)
        first = datetime(2026, 1, 6, 10, 0, 0, tzinfo=BEIJING)
        sent = device.realtime({"w01018": "35.2", "w00000": "12.5"}, at=first)
        assert device.receive().cn == "9014"
        assert wait_for(lambda: len(mine) == 2)
        assert {(s.pollutant, str(s.value)) for s in mine} == {("w01018", "35.2"), ("w00000", "12.5")}
        assert gateway.gateway.metrics.counter_value("totalcap_gateway_copy_fallbacks_total") == 0
        # the same frame again: stored raw, no value is new, the direct COPY meets the stored key
        device.send(sent)
        assert device.receive().cn == "9014"
        assert wait_for(lambda: any(b.duplicates == 2 for b in batches))
        assert gateway.gateway.metrics.counter_value("totalcap_gateway_copy_fallbacks_total") == 1
        # while the staged insert is in use, new values still reach the hook once
        device.realtime({"w01018": "36.0"}, at=first + timedelta(seconds=30))
        assert device.receive().cn == "9014"
        assert wait_for(lambda: len(mine) == 3)
        device.close()
    finally:
        hooks.unregister(collect)
    assert mine[-1].pollutant == "w01018" and str(mine[-1].value) == "36.0"
    assert others == []
    assert len(samples(logger.pk)) == 3
    assert all(b.outlets <= {logger.outlet_id} for b in batches)


def test_acks_are_stored_only_when_configured_refusals_always(make_gateway: Any, tx_world: Any) -> None:
    logger = water_logger(tx_world)
    quiet = make_gateway()
    device = Device(quiet.port, logger.mn)
    frame = device.realtime({"w01018": "1"})
    assert device.receive().cn == "9014"
    stranger = Device(quiet.port, "FFFFFFFFFFFFFFFFFFFFFFFE")
    refused = stranger.realtime({"w01018": "1"})
    assert stranger.receive().cn == "9011"
    assert wait_for(lambda: RawFrame.objects.filter(qn=refused.qn, direction="o", cn="9011").exists())
    assert not RawFrame.objects.filter(qn=frame.qn, direction="o").exists()
    assert wait_for(
        lambda: quiet.gateway.metrics.counter_value("totalcap_gateway_acks_total") == 1
    )  # not stored
    device.close()
    stranger.close()
    keeping = make_gateway(store_acks=True)
    device = Device(keeping.port, logger.mn)
    frame = device.realtime({"w01018": "2"})
    assert device.receive().cn == "9014"
    assert wait_for(lambda: RawFrame.objects.filter(qn=frame.qn, direction="o", cn="9014").exists())
    device.close()


def test_batch_notification_carries_any_gateway_name(make_gateway: Any, tx_world: Any) -> None:
    """The NOTIFY that goes with each COMMIT is rendered as plain text: a quote, a backslash and
    non-ASCII characters in the gateway's name arrive intact."""
    import json

    import psycopg

    from .conftest import test_dsn

    logger = water_logger(tx_world)
    name = "网关'o\\b-" + str(logger.pk)
    with psycopg.connect(test_dsn(), autocommit=True) as listener:
        listener.execute("LISTEN ingest_batch")
        gw = make_gateway(name=name)
        device = Device(gw.port, logger.mn)
        device.realtime({"w01018": "3"})
        assert device.receive().cn == "9014"
        device.close()
        payloads = [json.loads(n.payload) for n in listener.notifies(timeout=5, stop_after=1)]
    assert payloads and payloads[0]["gateway"] == name
    assert payloads[0]["frames"] == 1 and payloads[0]["outlets"] == [logger.outlet_id]
    assert RawFrame.objects.filter(gateway=name, direction="i").count() == 1


def test_a_starting_gateway_warms_the_hooks_up_before_it_accepts(tx_world: Any) -> None:
    """Each hook's warm-up runs once when a gateway starts, before it listens; a failing one is
    logged and does not stop the gateway. Total control registers its own (the lazy imports of the
    crossing path, which the first crossing after a restart used to wait for)."""
    from totalcap.ingest import hooks
    from totalcap.quotas import hooks as quota_hooks

    assert hooks._warmers.get(quota_hooks.post_consumption) is quota_hooks.warm_up
    calls: list[str] = []

    async def watcher(batch: hooks.CommittedBatch) -> None:
        return None

    async def broken(batch: hooks.CommittedBatch) -> None:
        return None

    def failing() -> None:
        raise RuntimeError("cannot warm up")

    hooks.register(broken, warm=failing)
    hooks.register(watcher, warm=lambda: calls.append("warm"))
    try:
        gw = ThreadedGateway()
        assert gw.gateway._server is None and calls == []
        gw.start()
        try:
            assert calls == ["warm"]  # once, before start() returned (the gateway was listening)
            device = Device(gw.port, water_logger(tx_world).mn)
            device.realtime({"w01018": "35.2"}, at=datetime(2026, 1, 5, 10, 0, tzinfo=BEIJING))
            ack = device.receive()
            assert ack is not None and ack.cn == "9014"
        finally:
            gw.stop()
    finally:
        hooks.unregister(watcher)
        hooks.unregister(broken)
    assert watcher not in hooks._warmers and broken not in hooks._warmers


def test_real_time_rows_go_to_their_partition_and_interval_rows_still_mark_their_hour(
    gateway: Any, tx_world: Any
) -> None:
    """The direct COPY writes real-time lines into ``monitoring_sample_r`` (no statement trigger keeps
    a transition table of them) and minute lines through ``monitoring_sample``, whose trigger marks
    the hour for the derived store."""
    logger = water_logger(tx_world)
    device = Device(gateway.port, logger.mn)
    realtime_at = datetime(2026, 1, 7, 9, 0, 30, tzinfo=BEIJING)
    minute_at = datetime(2026, 1, 7, 11, 5, 0, tzinfo=BEIJING)
    device.realtime({"w01018": "35.2"}, at=realtime_at)
    assert device.receive().cn == "9014"
    device.send(
        c.upload_data(device.peer, 2051, minute_at, {"w01018": {"Avg": "34.0", "Cou": "1.5", "Flag": "N"}})
    )
    assert device.receive().cn == "9014"
    device.close()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT tableoid::regclass::text, kind, value FROM monitoring_sample WHERE logger_id = %s "
            "ORDER BY data_time",
            [logger.pk],
        )
        stored = cur.fetchall()
        cur.execute(
            "SELECT hour FROM monitoring_dirty WHERE outlet_id = %s ORDER BY hour", [logger.outlet_id]
        )
        hours = [row[0] for row in cur.fetchall()]
    assert [
        (table.startswith("monitoring_sample_r_"), kind, str(value)) for table, kind, value in stored
    ] == [
        (True, "r", "35.200000"),
        (False, "m", "34.000000"),
    ]
    assert hours == [minute_at.replace(minute=0)]
    assert gateway.gateway.metrics.counter_value("totalcap_gateway_copy_fallbacks_total") == 0


def test_a_started_gateway_reports_its_c_kernels(gateway: Any) -> None:
    """Built by setup.py here, so the gauge says both kernels run (a machine without a compiler
    would show fewer, and the gateway would log which)."""
    assert gateway.gateway.metrics.gauges["totalcap_gateway_c_kernels"] == 2.0
