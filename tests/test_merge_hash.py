"""The row hash the merge computes inside SQLite's scan (merge.register_row_hash, row_hash_sql)
equals the one made at write time (store.row_hash), on fuzzed rows of every domain table.

The merge's structural check (typeof per declared column type) runs before the hash scan, so the
rows here hold what that check lets through: text (any character) or NULL in TEXT columns,
integers over the whole 64-bit range in INTEGER ones, integers and floats in REAL ones."""

from __future__ import annotations

import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from cdt.exchange.incoming import ROW_HASH_FUNCTION, register_row_hash, row_hash_sql
from cdt.core.schema import DATA_COLUMNS, HASH_COLUMNS, apply_migrations
from cdt.core.rows import row_hash
from kits.profiles import examples

TEXT = st.text(max_size=30) | st.sampled_from(["\x00", "\x7f", "\"\\/", "\u2028", "Đồng Tháp", "😀", "\x1f\n\t"])
BY_TYPE = {
    "TEXT": TEXT,
    "INTEGER": st.integers(-(2 ** 63), 2 ** 63 - 1),
    "REAL": st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10 ** 6), 10 ** 6),
}


def _schema() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("BEGIN")
    apply_migrations(conn, 0)
    conn.execute("COMMIT")
    return conn


_TYPES = {table: {row[1]: (str(row[2]).upper(), bool(row[3])) for row in _schema().execute(
    f"PRAGMA table_info({table})")} for table in DATA_COLUMNS}


@st.composite
def rows(draw):
    table = draw(st.sampled_from(sorted(DATA_COLUMNS)))
    row = {"id": draw(st.text(min_size=1, max_size=36)), "origin": draw(st.text(min_size=1, max_size=36)),
           "rev": draw(st.integers(1, 2 ** 63 - 1)), "deleted": draw(st.sampled_from([0, 1]))}
    for column in DATA_COLUMNS[table]:
        kind, not_null = _TYPES[table][column]
        value = BY_TYPE.get(kind, TEXT)
        row[column] = draw(value if not_null else st.none() | value)
    return table, row


@examples(thorough=150)
@given(found=st.lists(rows(), min_size=1, max_size=8))
def test_sql_row_hash_equals_the_write_time_hash(found):
    conn = _schema()
    json_ok = register_row_hash(conn)
    assert json_ok  # the SQLite bundled here writes the canonical JSON: the fast form is in use
    for number, (table, row) in enumerate(found):
        row["id"] = f"{number}-{row['id']}"
        row["hash"] = row_hash(table, row)
        columns = list(row)
        conn.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                     [row[c] for c in columns])
        back = conn.execute(f"SELECT {row_hash_sql(conn, table, json_ok)}, {ROW_HASH_FUNCTION}"
                            f"({', '.join(HASH_COLUMNS[table])}), hash FROM {table} WHERE id = ?",
                            (row["id"],)).fetchone()
        assert back[0] == back[1] == back[2] == row["hash"]
    conn.close()


def test_a_changed_byte_changes_the_sql_hash():
    conn = _schema()
    json_ok = register_row_hash(conn)
    row = {"id": "a", "origin": "o", "rev": 1, "deleted": 0, "name": "Thôn 1", "kind": "thôn"}
    row = {**{c: None for c in DATA_COLUMNS["hamlet"]}, **row}
    row["hash"] = row_hash("hamlet", row)
    conn.execute(f"INSERT INTO hamlet ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))
    conn.execute("UPDATE hamlet SET name = 'Thôn 2'")
    assert conn.execute(f"SELECT {row_hash_sql(conn, 'hamlet', json_ok)} IS NOT hash FROM hamlet").fetchone()[0] == 1
