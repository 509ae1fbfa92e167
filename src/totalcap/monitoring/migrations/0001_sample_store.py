"""The partitioned sample store: LIST by kind, then RANGE by Beijing-time month, each with a default."""

from django.db import migrations

KINDS = ("r", "m", "h", "d")

CREATE = """
CREATE TABLE monitoring_sample (
    logger_id   bigint       NOT NULL,
    outlet_id   bigint       NOT NULL,
    kind        char(1)      NOT NULL,
    pollutant   varchar(16)  NOT NULL,
    data_time   timestamptz  NOT NULL,
    value       numeric(20, 6),
    min         numeric(20, 6),
    max         numeric(20, 6),
    cou         numeric(24, 6),
    zs_value    numeric(20, 6),
    zs_min      numeric(20, 6),
    zs_max      numeric(20, 6),
    flag        varchar(4)   NOT NULL DEFAULT '',
    eflag       varchar(8)   NOT NULL DEFAULT '',
    sample_time timestamptz,
    extra       jsonb,
    frame_id    bigint,
    received_at timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (logger_id, kind, pollutant, data_time)
) PARTITION BY LIST (kind);
CREATE INDEX monitoring_sample_outlet_time ON monitoring_sample (outlet_id, kind, data_time);
"""


def create_children(apps, schema_editor):
    from totalcap.base import partitions

    with schema_editor.connection.cursor() as cur:
        for kind in KINDS:
            child = f"monitoring_sample_{kind}"
            cur.execute(
                f"CREATE TABLE {child} PARTITION OF monitoring_sample FOR VALUES IN ('{kind}') "
                "PARTITION BY RANGE (data_time)"
            )
            cur.execute(f"CREATE TABLE {child}_default PARTITION OF {child} DEFAULT")
    today = partitions.today_beijing()
    for kind in KINDS:
        partitions.ensure_range(
            f"monitoring_sample_{kind}", "data_time", partitions.add_months(today, -2), partitions.add_months(today, 3)
        )


class Migration(migrations.Migration):
    initial = True
    dependencies = [("registry", "0002_outlet_coordinate_help")]

    operations = [
        migrations.RunSQL(CREATE, reverse_sql="DROP TABLE monitoring_sample CASCADE;"),
        migrations.RunPython(create_children, migrations.RunPython.noop),
    ]
