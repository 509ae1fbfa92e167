"""The platform's partitioned hourly tables, the queue of hours to recompute, and the triggers that
fill it when samples or device states are written."""

from django.db import migrations

CREATE = """
CREATE TABLE monitoring_hour (
    outlet_id        bigint        NOT NULL,
    pollutant        varchar(16)   NOT NULL,
    data_time        timestamptz   NOT NULL,
    logger_id        bigint,
    source           char(1)       NOT NULL,
    n_records        smallint      NOT NULL DEFAULT 0,
    n_valid          smallint      NOT NULL DEFAULT 0,
    valid_minutes    smallint      NOT NULL DEFAULT 0,
    stopped_minutes  smallint      NOT NULL DEFAULT 0,
    process_minutes  smallint      NOT NULL DEFAULT 0,
    n_negative       smallint      NOT NULL DEFAULT 0,
    flag_counts      jsonb,
    status           char(1)       NOT NULL,
    label            varchar(4)    NOT NULL,
    agg_flag         varchar(4)    NOT NULL DEFAULT '',
    value            numeric(20, 6),
    min              numeric(20, 6),
    max              numeric(20, 6),
    raw_mean         numeric(20, 6),
    weighting        varchar(8)    NOT NULL DEFAULT '',
    volume_m3        numeric(24, 6),
    amount_kg        numeric(30, 9),
    moisture         numeric(8, 5),
    o2               numeric(8, 3),
    o2_ref           numeric(6, 2),
    zs_factor        numeric(14, 6),
    zs_value         numeric(20, 6),
    zs_status        varchar(12)   NOT NULL DEFAULT '',
    limit_value      numeric(12, 4),
    over_limit       boolean       NOT NULL DEFAULT false,
    logger_value     numeric(20, 6),
    logger_min       numeric(20, 6),
    logger_max       numeric(20, 6),
    logger_cou       numeric(24, 6),
    logger_flag      varchar(4)    NOT NULL DEFAULT '',
    logger_frame_id  bigint,
    mismatch         boolean       NOT NULL DEFAULT false,
    mismatch_detail  jsonb,
    rt_checked       smallint      NOT NULL DEFAULT 0,
    rt_mismatch      smallint      NOT NULL DEFAULT 0,
    review_id        bigint,
    rules_id         bigint,
    computed_at      timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (outlet_id, pollutant, data_time)
) PARTITION BY RANGE (data_time);
CREATE TABLE monitoring_hour_default PARTITION OF monitoring_hour DEFAULT;

CREATE TABLE monitoring_emission_hour (
    outlet_id        bigint        NOT NULL,
    pollutant        varchar(16)   NOT NULL,
    data_time        timestamptz   NOT NULL,
    version          integer       NOT NULL,
    kg               numeric(30, 9) NOT NULL,
    method           varchar(20)   NOT NULL,
    hour_status      varchar(1)    NOT NULL DEFAULT '',
    concentration    numeric(20, 6),
    volume_m3        numeric(24, 6),
    capture_rate     numeric(7, 4),
    substitution_id  bigint,
    manual_id        bigint,
    log_id           bigint        NOT NULL,
    accounted_at     timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (outlet_id, pollutant, data_time)
) PARTITION BY RANGE (data_time);
CREATE TABLE monitoring_emission_hour_default PARTITION OF monitoring_emission_hour DEFAULT;

-- Hours whose inputs changed since they were last computed (filled by triggers and services,
-- drained by the pipeline).
CREATE TABLE monitoring_dirty (
    outlet_id  bigint       NOT NULL,
    hour       timestamptz  NOT NULL,
    marked_at  timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (outlet_id, hour)
);

CREATE FUNCTION monitoring_mark_dirty_samples() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO monitoring_dirty (outlet_id, hour)
    SELECT DISTINCT outlet_id, date_trunc('hour', data_time, 'UTC') FROM new_rows WHERE kind <> 'r'
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER monitoring_sample_dirty_insert AFTER INSERT ON monitoring_sample
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION monitoring_mark_dirty_samples();
CREATE TRIGGER monitoring_sample_dirty_update AFTER UPDATE ON monitoring_sample
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION monitoring_mark_dirty_samples();

-- A state observation can change the hour it falls in and the hours it holds over (at most the
-- rule set's hold time, 2 h by default): mark three hours.
CREATE FUNCTION monitoring_mark_dirty_states() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO monitoring_dirty (outlet_id, hour)
    SELECT DISTINCT n.outlet_id, date_trunc('hour', n.observed_at, 'UTC') + make_interval(hours => k)
    FROM new_rows n CROSS JOIN generate_series(0, 2) k
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER monitoring_device_state_dirty AFTER INSERT ON monitoring_device_state
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION monitoring_mark_dirty_states();
"""

REVERSE = """
DROP TRIGGER IF EXISTS monitoring_device_state_dirty ON monitoring_device_state;
DROP TRIGGER IF EXISTS monitoring_sample_dirty_insert ON monitoring_sample;
DROP TRIGGER IF EXISTS monitoring_sample_dirty_update ON monitoring_sample;
DROP FUNCTION IF EXISTS monitoring_mark_dirty_states();
DROP FUNCTION IF EXISTS monitoring_mark_dirty_samples();
DROP TABLE IF EXISTS monitoring_dirty;
DROP TABLE IF EXISTS monitoring_emission_hour CASCADE;
DROP TABLE IF EXISTS monitoring_hour CASCADE;
"""


def create_partitions(apps, schema_editor):
    from totalcap.base import partitions

    today = partitions.today_beijing()
    for parent in ("monitoring_hour", "monitoring_emission_hour"):
        partitions.ensure_range(parent, "data_time", partitions.add_months(today, -2), partitions.add_months(today, 3))


def load_rulesets(apps, schema_editor):
    import json
    from importlib import resources

    RuleSet = apps.get_model("monitoring", "RuleSet")
    text = resources.files("totalcap.monitoring").joinpath("data/rules.json").read_text(encoding="utf-8")
    for row in json.loads(text)["rulesets"]:
        RuleSet.objects.get_or_create(
            kind=row["kind"],
            code=row["code"],
            version=1,
            defaults={
                "name": row["name"],
                "medium": row["medium"],
                "params": row["params"],
                "is_default": bool(row.get("is_default")),
                "source": row.get("source", ""),
            },
        )


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0003_models")]

    operations = [
        migrations.RunSQL(CREATE, reverse_sql=REVERSE),
        migrations.RunPython(create_partitions, migrations.RunPython.noop),
        migrations.RunPython(load_rulesets, migrations.RunPython.noop),
    ]
