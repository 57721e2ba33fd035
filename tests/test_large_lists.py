"""Long lists print as plain aligned text, one line a row (rich's table takes too long for thousands of rows)."""

from __future__ import annotations

from cdt.commands.common import LARGE_TABLE
from cdt.store import Store


def test_a_long_team_list_is_one_aligned_line_a_team(cdt, commune):
    with Store.open(commune) as store, store.write() as tx:
        for i in range(LARGE_TABLE + 1):
            hamlet = tx.insert("hamlet", {"name": f"Xóm Đồng {i:03d}", "kind": "xóm"})
            tx.insert("team", {"hamlet_id": hamlet["id"], "status": "active", "decision_number": f"{i}/QĐ"})
    result = cdt("team", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Tổ công nghệ số cộng đồng" and lines[1].split()[:2] == ["Mã", "Thôn/TDP"]
    rows = [line for line in lines[3:] if "Xóm Đồng" in line]  # a note on small teams follows
    assert len(rows) == LARGE_TABLE + 1 and len(lines) == 3 + len(rows) + 1
    column = lines[1].index("Thôn/TDP")
    assert all(line[column:].startswith("Xóm Đồng") for line in rows)  # aligned under its heading
