"""Small database helpers the ORM does not offer."""

from __future__ import annotations

from django.db import connections, models


def insert_unless_conflict(obj: models.Model, *, using: str = "default", notify: str | None = None) -> bool:
    """Insert ``obj`` with ``INSERT … ON CONFLICT DO NOTHING RETURNING pk``: one statement and no
    savepoint, where ``create()`` inside ``atomic()`` takes three round trips to tell a duplicate.

    Returns True (and sets ``obj.pk``) when the row was inserted; False when a unique constraint
    already holds such a row — nothing was written and the caller's transaction is intact (an
    error of another kind, a foreign key say, still raises). ``auto_now`` / ``auto_now_add`` fields
    are filled as ``save()`` would. With ``notify``, ``pg_notify(notify, '<pk>')`` is sent in the
    same statement for an inserted row (delivered when the transaction commits). Like
    ``bulk_create``, it sends no ``pre_save`` / ``post_save`` signals (the project connects none;
    its history is kept by database triggers, which fire as for any insert).
    """
    meta = obj._meta
    if meta.parents:
        raise TypeError(f"{meta.label}: insert_unless_conflict() does not write parent tables")
    connection = connections[using]
    fields = [f for f in meta.local_concrete_fields if not (f.primary_key and obj.pk is None)]
    values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    quote = connection.ops.quote_name
    assert meta.pk is not None and meta.pk.column is not None
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    columns = ", ".join(quote(str(f.column)) for f in fields)  # concrete fields: never None
    insert = (
        f"INSERT INTO {table} ({columns}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT DO NOTHING RETURNING {pk}"
    )
    if notify:
        sql = f"WITH new AS ({insert}) SELECT {pk}, pg_notify(%s, {pk}::text) FROM new"
        values.append(notify)
    else:
        sql = insert
    with connection.cursor() as cur:
        cur.execute(sql, values)
        row = cur.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = using
    return True
