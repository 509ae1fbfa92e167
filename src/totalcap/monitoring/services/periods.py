"""Hour → day → month: the 20-hour day and the 25-day month (23 in February), daily means (flow-
weighted for wastewater), aggregate flags, and the comparison with the logger's daily value (2031).

Days are Beijing days (``[00:00+08, 24:00+08)``), months Beijing months.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection

from totalcap.base.partitions import add_months
from totalcap.monitoring.services.context import OutletContext, beijing_day_start, fill, temp_table


def compute_days(contexts: dict[int, OutletContext], first: dt.date, last: dt.date) -> int:
    """Recompute ``monitoring_day`` for Beijing days ``first`` … ``last`` (inclusive)."""
    if not contexts or last < first:
        return 0
    start = beijing_day_start(first)
    end = beijing_day_start(last + dt.timedelta(days=1))
    temp_table("tmp_day_params", "outlet_id bigint PRIMARY KEY, min_hours int, agg_share boolean, "
               "normal_share numeric, abnormal_flag text, flow_code text, weighted boolean, rel_tol numeric, "
               "abs_tol numeric")  # fmt: skip
    fill(
        "tmp_day_params",
        ("outlet_id", "min_hours", "agg_share", "normal_share", "abnormal_flag", "flow_code", "weighted", "rel_tol",
         "abs_tol"),
        [
            (c.id, c.validity.min_valid_hours, c.validity.aggregate_rule == "share", c.validity.normal_share,
             c.validity.abnormal_flag, c.flow_code, c.validity.flow_weighted, c.validity.relative_tolerance,
             c.validity.absolute_tolerance)
            for c in contexts.values()
        ],
    )  # fmt: skip
    with connection.cursor() as cur:
        cur.execute(
            """
            WITH h AS (
                SELECT t.*, (t.data_time AT TIME ZONE 'Asia/Shanghai')::date AS day,
                    f.volume_m3 AS flow_volume, f.status AS flow_status
                FROM monitoring_hour t
                LEFT JOIN tmp_day_params p0 ON p0.outlet_id = t.outlet_id
                LEFT JOIN monitoring_hour f ON f.outlet_id = t.outlet_id AND f.pollutant = p0.flow_code
                    AND f.data_time = t.data_time AND f.data_time >= %(start)s AND f.data_time < %(end)s
                WHERE t.outlet_id = ANY(%(ids)s) AND t.data_time >= %(start)s AND t.data_time < %(end)s
            ),
            agg AS (
                SELECT h.outlet_id, h.pollutant, h.day,
                    count(*) FILTER (WHERE h.source <> 'x') AS received,
                    count(*) FILTER (WHERE h.status = 'v') AS valid,
                    count(*) FILTER (WHERE h.status = 's') AS stopped,
                    count(*) FILTER (WHERE h.status = 'p') AS process,
                    count(*) FILTER (WHERE h.status = 'i') AS invalid,
                    count(*) FILTER (WHERE h.agg_flag = 'N') AS n_normal,
                    count(*) FILTER (WHERE h.agg_flag <> '') AS n_flagged,
                    (array_agg(h.agg_flag ORDER BY h.agg_flag) FILTER (WHERE h.agg_flag NOT IN ('', 'N')))[1] AS abn,
                    avg(h.value) FILTER (WHERE h.status = 'v') AS mean,
                    sum(h.value * h.flow_volume) FILTER (WHERE h.status = 'v' AND h.flow_status = 'v') AS w_num,
                    sum(h.flow_volume) FILTER (WHERE h.status = 'v' AND h.flow_status = 'v') AS w_den,
                    min(h.value) FILTER (WHERE h.status = 'v') AS vmin,
                    max(h.value) FILTER (WHERE h.status = 'v') AS vmax,
                    avg(h.zs_value) FILTER (WHERE h.status = 'v' AND h.zs_status = 'ok') AS zs,
                    sum(h.volume_m3) FILTER (WHERE h.status IN ('v', 'p')) AS volume,
                    sum(h.amount_kg) FILTER (WHERE h.status IN ('v', 'p')) AS amount,
                    max(h.limit_value) AS limit_value,
                    bool_or(h.zs_status NOT IN ('na', 'no_ref')) AS o2_converted
                FROM h GROUP BY 1, 2, 3
            ),
            logger AS (
                SELECT outlet_id, pollutant, (data_time AT TIME ZONE 'Asia/Shanghai')::date AS day,
                    avg(value) AS value, sum(cou) AS cou, max(flag) AS flag
                FROM monitoring_sample
                WHERE kind = 'd' AND outlet_id = ANY(%(ids)s) AND data_time >= %(start)s AND data_time < %(end)s
                GROUP BY 1, 2, 3
            ),
            res AS (
                SELECT a.*, p.min_hours, p.agg_share, p.normal_share, p.abnormal_flag, p.flow_code, p.weighted,
                    p.rel_tol, p.abs_tol,
                    CASE WHEN p.weighted AND a.pollutant <> p.flow_code AND coalesce(a.w_den, 0) > 0
                         THEN a.w_num / a.w_den ELSE a.mean END AS day_value,
                    CASE WHEN a.valid >= p.min_hours THEN 'v'
                         WHEN a.stopped >= p.min_hours THEN 's'
                         WHEN a.process >= p.min_hours THEN 'p'
                         WHEN a.received = 0 THEN 'm'
                         ELSE 'i' END AS st,
                    l.value AS l_value, l.cou AS l_cou, l.flag AS l_flag
                FROM agg a JOIN tmp_day_params p USING (outlet_id)
                LEFT JOIN logger l USING (outlet_id, pollutant, day)
            )
            INSERT INTO monitoring_day (outlet_id, pollutant, day, hours_expected, hours_received, hours_valid,
                hours_stopped, hours_process, hours_invalid, hours_missing, status, agg_flag, value, min, max,
                zs_value, volume_m3, amount_kg, over_limit, logger_value, logger_cou, logger_flag, mismatch,
                computed_at)
            SELECT r.outlet_id, r.pollutant, r.day, 24, r.received, r.valid, r.stopped, r.process, r.invalid,
                24 - r.received, r.st,
                CASE WHEN r.n_flagged = 0 THEN ''
                     WHEN r.agg_share THEN CASE WHEN r.n_normal >= r.normal_share * r.n_flagged THEN 'N'
                                                ELSE r.abnormal_flag END
                     ELSE CASE WHEN r.n_normal = r.n_flagged THEN 'N' ELSE coalesce(r.abn, 'D') END END,
                r.day_value, r.vmin, r.vmax, r.zs, r.volume, r.amount,
                (r.st = 'v' AND r.limit_value IS NOT NULL AND coalesce(CASE WHEN r.o2_converted THEN r.zs END,
                    r.day_value) > r.limit_value),
                r.l_value, r.l_cou, coalesce(r.l_flag, ''),
                (r.l_value IS NOT NULL AND r.day_value IS NOT NULL
                 AND abs(r.day_value - r.l_value) > greatest(r.abs_tol, r.rel_tol * abs(r.l_value))),
                now()
            FROM res r
            ON CONFLICT (outlet_id, pollutant, day) DO UPDATE SET
                hours_expected = EXCLUDED.hours_expected, hours_received = EXCLUDED.hours_received,
                hours_valid = EXCLUDED.hours_valid, hours_stopped = EXCLUDED.hours_stopped,
                hours_process = EXCLUDED.hours_process, hours_invalid = EXCLUDED.hours_invalid,
                hours_missing = EXCLUDED.hours_missing, status = EXCLUDED.status, agg_flag = EXCLUDED.agg_flag,
                value = EXCLUDED.value, min = EXCLUDED.min, max = EXCLUDED.max, zs_value = EXCLUDED.zs_value,
                volume_m3 = EXCLUDED.volume_m3, amount_kg = EXCLUDED.amount_kg, over_limit = EXCLUDED.over_limit,
                logger_value = EXCLUDED.logger_value, logger_cou = EXCLUDED.logger_cou,
                logger_flag = EXCLUDED.logger_flag, mismatch = EXCLUDED.mismatch, computed_at = EXCLUDED.computed_at
            """,
            {"ids": list(contexts), "start": start, "end": end},
        )
        return int(cur.rowcount or 0)


def months_of(days: Iterable[dt.date]) -> list[dt.date]:
    return sorted({d.replace(day=1) for d in days})


def compute_months(contexts: dict[int, OutletContext], months: Iterable[dt.date]) -> int:
    """Recompute ``monitoring_month`` for the given months (first days)."""
    months = sorted(set(months))
    if not contexts or not months:
        return 0
    temp_table("tmp_month_params", "outlet_id bigint, month date, min_days int, flow_code text, weighted boolean, "
               "PRIMARY KEY (outlet_id, month)")  # fmt: skip
    fill(
        "tmp_month_params",
        ("outlet_id", "month", "min_days", "flow_code", "weighted"),
        [
            (c.id, m, c.validity.min_valid_days(m.month), c.flow_code, c.validity.flow_weighted)
            for c in contexts.values()
            for m in months
        ],
    )
    written = 0
    with connection.cursor() as cur:
        for month in months:
            nxt = add_months(month, 1)
            cur.execute(
                """
                WITH d AS (
                    SELECT t.*, f.volume_m3 AS flow_volume, f.status AS flow_status
                    FROM monitoring_day t
                    JOIN tmp_month_params p ON p.outlet_id = t.outlet_id AND p.month = %(month)s
                    LEFT JOIN monitoring_day f ON f.outlet_id = t.outlet_id AND f.pollutant = p.flow_code
                        AND f.day = t.day
                    WHERE t.outlet_id = ANY(%(ids)s) AND t.day >= %(month)s AND t.day < %(next)s
                ),
                agg AS (
                    SELECT d.outlet_id, d.pollutant,
                        count(*) FILTER (WHERE d.status = 'v') AS valid,
                        count(*) FILTER (WHERE d.status = 's') AS stopped,
                        sum(d.hours_valid) AS hours_valid, sum(d.hours_received) AS hours_received,
                        avg(d.value) FILTER (WHERE d.status = 'v') AS mean,
                        sum(d.value * d.flow_volume) FILTER (WHERE d.status = 'v' AND d.flow_volume IS NOT NULL) AS w_num,
                        sum(d.flow_volume) FILTER (WHERE d.status = 'v' AND d.flow_volume IS NOT NULL) AS w_den,
                        avg(d.zs_value) FILTER (WHERE d.status = 'v') AS zs,
                        sum(d.volume_m3) AS volume, sum(d.amount_kg) AS amount
                    FROM d GROUP BY 1, 2
                )
                INSERT INTO monitoring_month (outlet_id, pollutant, month, days_expected, days_valid, days_stopped,
                    hours_valid, hours_received, hours_expected, status, value, zs_value, volume_m3, amount_kg,
                    computed_at)
                SELECT a.outlet_id, a.pollutant, %(month)s, %(days)s, a.valid, a.stopped, a.hours_valid,
                    a.hours_received, %(days)s * 24,
                    CASE WHEN a.valid >= p.min_days THEN 'v' WHEN a.stopped >= p.min_days THEN 's'
                         WHEN a.hours_received = 0 THEN 'm' ELSE 'i' END,
                    CASE WHEN p.weighted AND a.pollutant <> p.flow_code AND coalesce(a.w_den, 0) > 0
                         THEN a.w_num / a.w_den ELSE a.mean END,
                    a.zs, a.volume, a.amount, now()
                FROM agg a JOIN tmp_month_params p ON p.outlet_id = a.outlet_id AND p.month = %(month)s
                ON CONFLICT (outlet_id, pollutant, month) DO UPDATE SET
                    days_expected = EXCLUDED.days_expected, days_valid = EXCLUDED.days_valid,
                    days_stopped = EXCLUDED.days_stopped, hours_valid = EXCLUDED.hours_valid,
                    hours_received = EXCLUDED.hours_received, hours_expected = EXCLUDED.hours_expected,
                    status = EXCLUDED.status, value = EXCLUDED.value, zs_value = EXCLUDED.zs_value,
                    volume_m3 = EXCLUDED.volume_m3, amount_kg = EXCLUDED.amount_kg, computed_at = EXCLUDED.computed_at
                """,
                {"ids": list(contexts), "month": month, "next": nxt, "days": (nxt - month).days},
            )
            written += int(cur.rowcount or 0)
    return written
