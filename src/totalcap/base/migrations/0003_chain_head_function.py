from django.db import migrations

# The chain append's lock and its read of the chain head in one round trip. The function is
# VOLATILE, so its SELECT takes a fresh snapshot after the lock was granted (READ COMMITTED): it
# sees every event committed before, exactly as the two statements it replaces did.
CREATE = """
CREATE OR REPLACE FUNCTION base_chain_head(lock_key bigint) RETURNS varchar
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    RETURN (SELECT hash FROM base_domainevent ORDER BY id DESC LIMIT 1);
END
$$;
"""
DROP = "DROP FUNCTION IF EXISTS base_chain_head(bigint);"


class Migration(migrations.Migration):
    dependencies = [("base", "0002_domainevent_truncate_guard")]

    operations = [migrations.RunSQL(CREATE, DROP)]
