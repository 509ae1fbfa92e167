"""The raw-frame store: a native table partitioned by Beijing month of ``received_at`` with a
default partition, ids from a sequence that hands out blocks of 1024 (each gateway reserves a block
with one ``nextval`` and numbers its frames itself), and a trigger that refuses UPDATE and DELETE."""

from django.db import migrations

CREATE = """
CREATE SEQUENCE ingest_rawframe_id_seq INCREMENT BY 1024 MINVALUE 1 START WITH 1;
CREATE TABLE ingest_rawframe (
    id            bigint       NOT NULL,
    received_at   timestamptz  NOT NULL,
    direction     char(1)      NOT NULL,
    logger_id     bigint,
    mn            varchar(64)  NOT NULL DEFAULT '',
    peer          varchar(64)  NOT NULL DEFAULT '',
    gateway       varchar(64)  NOT NULL DEFAULT '',
    connection_id bigint,
    cn            varchar(8)   NOT NULL DEFAULT '',
    qn            varchar(24)  NOT NULL DEFAULT '',
    data_time     timestamptz,
    status        varchar(16)  NOT NULL,
    warnings      jsonb,
    raw           bytea        NOT NULL,
    PRIMARY KEY (id, received_at)
) PARTITION BY RANGE (received_at);
CREATE TABLE ingest_rawframe_default PARTITION OF ingest_rawframe DEFAULT;
CREATE INDEX ingest_rawframe_logger_time ON ingest_rawframe (logger_id, received_at);
CREATE INDEX ingest_rawframe_unknown_mn ON ingest_rawframe (mn, received_at) WHERE logger_id IS NULL;

CREATE FUNCTION ingest_rawframe_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Creating a month's partition moves that month's rows out of the default partition
    -- (base/partitions.py): the only DELETE allowed, and only there.
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'ingest_rawframe_default' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'raw frames are immutable: % refused', TG_OP;
END $$;
CREATE TRIGGER ingest_rawframe_no_change BEFORE UPDATE OR DELETE ON ingest_rawframe
    FOR EACH ROW EXECUTE FUNCTION ingest_rawframe_immutable();
"""

REVERSE = """
DROP TABLE IF EXISTS ingest_rawframe CASCADE;
DROP FUNCTION IF EXISTS ingest_rawframe_immutable();
DROP SEQUENCE IF EXISTS ingest_rawframe_id_seq;
"""


def create_partitions(apps, schema_editor):
    from totalcap.base import partitions

    today = partitions.today_beijing()
    partitions.ensure_range(
        "ingest_rawframe", "received_at", partitions.add_months(today, -1), partitions.add_months(today, 3)
    )


class Migration(migrations.Migration):
    dependencies = [("ingest", "0001_initial")]

    operations = [
        migrations.RunSQL(CREATE, reverse_sql=REVERSE),
        migrations.RunPython(create_partitions, migrations.RunPython.noop),
    ]
