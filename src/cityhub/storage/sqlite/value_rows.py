"""The SQLite store's attribute value index, maintained behind the writes (migration 010).

The index itself (storage/sql/value_index.py) holds ~20 rows per entity at as many random
places in two B-trees; written inside each write transaction they doubled the CPU of a
single-entity commit (313 → 647 µs), since every page a commit touches goes to the WAL. So
a write only appends its entity ids to ``value_index_pending`` (the end of one table, in the
same transaction: a write is never forgotten, even across a crash), and ``drain`` moves
queued entities into the index in batches, where the pages they touch are shared.

Queries stay exact all along: a value prefilter is "in the index, or queued"
(query_sql.py), and the queue is short (the store drains it within ~100 ms of a write).
``entity_value_keys`` records what the index holds for each entity, so ``drain`` removes
exactly the rows an entity's previous values left (no index by entity is needed).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import orjson

from cityhub.storage.sql.value_index import NO_VALUES, ValueKeys, value_keys

DRAIN_BATCH = 2_000  # queued entries per drain transaction


def enqueue(conn: sqlite3.Connection, tenant: str, entity_ids: Sequence[str]) -> None:
    """Queue written entities (inserted, updated or deleted) for the value indexer; inside
    the writing transaction."""
    if entity_ids:
        conn.executemany(
            "INSERT INTO value_index_pending (tenant, entity_id) VALUES (?, ?)",
            [(tenant, entity_id) for entity_id in entity_ids],
        )


def drain(conn: sqlite3.Connection, limit: int = DRAIN_BATCH) -> int:
    """Index up to ``limit`` queued entries in the open write transaction; how many were
    taken (0: the queue is empty)."""
    queued = conn.execute(
        "SELECT seq, tenant, entity_id FROM value_index_pending ORDER BY seq LIMIT ?", (limit,)
    ).fetchall()
    if not queued:
        return 0
    by_tenant: dict[str, dict[str, None]] = {}
    for _seq, tenant, entity_id in queued:
        by_tenant.setdefault(tenant, {})[entity_id] = None
    number_drops: list[tuple[int, float, str]] = []
    number_rows: list[tuple[int, float, str]] = []
    string_drops: list[tuple[int, str]] = []
    string_rows: list[tuple[int, str]] = []
    keys_rows: list[tuple[str, str, str]] = []
    keys_drops: list[tuple[str, str]] = []
    for tenant, ids in by_tenant.items():
        docs = select_by_ids(conn, "SELECT id, doc FROM entities", "id", tenant, list(ids))
        held = select_by_ids(
            conn, "SELECT entity_id, keys FROM entity_value_keys", "entity_id", tenant, list(ids)
        )
        for entity_id in ids:
            doc = docs.get(entity_id)
            new = value_keys(tenant, orjson.loads(doc)) if doc is not None else NO_VALUES
            text = held.get(entity_id)
            old = _parse_keys(text) if text is not None else NO_VALUES
            if new == old:
                continue
            (old_numbers, old_strings), (new_numbers, new_strings) = old, new
            number_drops.extend((k, v, entity_id) for k, v in old_numbers - new_numbers)
            number_rows.extend((k, v, entity_id) for k, v in new_numbers - old_numbers)
            string_drops.extend((h, entity_id) for h in old_strings - new_strings)
            string_rows.extend((h, entity_id) for h in new_strings - old_strings)
            if new == NO_VALUES:
                keys_drops.append((tenant, entity_id))
            else:
                keys_rows.append((tenant, entity_id, _keys_text(new)))
    conn.executemany(
        "DELETE FROM entity_numbers WHERE k = ? AND value = ? AND entity_id = ?", number_drops
    )
    conn.executemany("DELETE FROM entity_strings WHERE h = ? AND entity_id = ?", string_drops)
    # In key order: consecutive rows land on the same or the next leaf page.
    conn.executemany(
        "INSERT OR IGNORE INTO entity_numbers (k, value, entity_id) VALUES (?, ?, ?)",
        sorted(number_rows),
    )
    conn.executemany(
        "INSERT OR IGNORE INTO entity_strings (h, entity_id) VALUES (?, ?)", sorted(string_rows)
    )
    conn.executemany("DELETE FROM entity_value_keys WHERE tenant = ? AND entity_id = ?", keys_drops)
    conn.executemany(
        "INSERT OR REPLACE INTO entity_value_keys (tenant, entity_id, keys) VALUES (?, ?, ?)",
        keys_rows,
    )
    conn.execute("DELETE FROM value_index_pending WHERE seq <= ?", (queued[-1][0],))
    return len(queued)


def select_by_ids(
    conn: sqlite3.Connection, select: str, id_column: str, tenant: str, ids: list[str]
) -> dict[str, str]:
    """``select`` (two columns: id, value) for one tenant's ids, 500 bound ids a statement."""
    found: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"{select} WHERE tenant = ? AND {id_column} IN ({marks})", (tenant, *chunk)
        )
        found.update(rows)
    return found


def _keys_text(keys: ValueKeys) -> str:
    numbers, strings = keys
    return orjson.dumps({"n": sorted(numbers), "s": sorted(strings)}).decode()


def _parse_keys(text: str) -> ValueKeys:
    data = orjson.loads(text)
    return (
        frozenset((int(k), float(v)) for k, v in data["n"]),
        frozenset(int(h) for h in data["s"]),
    )
