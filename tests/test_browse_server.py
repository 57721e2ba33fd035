"""A real `cdt browse` on a district, over HTTP: its pages, its figures against `cdt report`, nothing private
served, 127.0.0.1 only, a canned query in headless Chromium, and Ctrl-C that stops it cleanly.

The server is started once for the module (kits.browse.Server: a `cdt` process of its own).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import socket
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from cdt.core.i18n import set_language, t
from kits.browse import HOUSEHOLD, MONTH, NAME, NOTE, PHONE, Server, build_commune, build_district

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="stopped with SIGINT, as Ctrl-C does on Linux")

QUERIES = ("activity", "services", "quiet_hamlets", "untrained_teams", "affiliations", "not_reported")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def path_of(name: str) -> str:
    """A table's address as Datasette writes it (its tilde encoding)."""
    from datasette.utils import tilde_encode

    return "/" + tilde_encode(name)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The district file, its hash before, and `cdt browse --no-open --port 0` running on it."""
    base = tmp_path_factory.mktemp("browse-server")
    area = build_district(base / "district")
    before = sha(area.path)
    server = Server(area.path, base / "data", "--port", "0")
    yield area, server
    code, out, err = server.stop()
    assert code == 0, err
    assert out.rstrip().splitlines()[-1] == "Đã dừng; bản sao tạm đã xóa." and "Traceback" not in err
    assert not list((base / "data" / "cdt" / "scratch").glob("browse-*"))
    assert sha(area.path) == before


@pytest.fixture
def district_report(cdt, served):
    area, _ = served
    result = cdt("--db", area.path, "report", "--month", MONTH, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def query_json(server: Server, name: str, **params: str) -> list[dict]:
    status, body = server.get(f"/{name}.json?_shape=array&" + urllib.parse.urlencode(params))
    assert status == 200, body[:500]
    return json.loads(body)


def test_the_address_is_printed_and_the_pages_are_vietnamese(served):
    area, server = served
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/huyen-dai-tu", server.url)
    status, home = server.get("/", base=f"http://127.0.0.1:{server.port}")
    assert status == 200  # the home page leads to the file's page
    for text in ("Dữ liệu tổ công nghệ số cộng đồng · Huyện Đại Từ", "Câu hỏi thường gặp", "Bảng dữ liệu",
                 "Lượt hỗ trợ, hộ và người được hỗ trợ theo đơn vị", "Tổ chưa có thành viên được tập huấn",
                 "Thôn, tổ dân phố", "Không hiện: khóa, nhật ký sửa và hoàn tác"):
        assert text in home, text
    status, visits = server.get(path_of("Lượt hỗ trợ"))
    assert status == 200
    cells = re.findall(r'<td class="col-[^"]*">([^<]*)</td>', visits)
    assert "Xã Phúc Lương" in cells or "Thị trấn Hùng Sơn" in cells
    assert any(re.fullmatch(r"\d{2}/\d{2}/20\d{2}", cell) for cell in cells)  # dates dd/mm/yyyy
    assert not any(re.fullmatch(r"20\d{2}-\d{2}-\d{2}", cell) for cell in cells)
    assert "Định danh điện tử VNeID" in visits and '["' not in visits.split("<tbody>")[1]
    for english in ("Custom SQL query", "This data as", "Suggested facets", ">Apply<", "rows where"):
        assert english not in visits, english


def test_every_canned_query_answers_with_the_report_s_figures(served, district_report):
    _, server = served
    for name in QUERIES:
        status, page = server.get(f"/{name}?month=11%2F2026")
        assert status == 200 and t(f"browse.query.{name}") in page, name
    rows = {row[t("browse.col.code")]: row for row in query_json(server, "activity", month="11/2026")}
    for unit in district_report["rows"]:
        mine = rows[unit["unit"]["code"]]
        assert (mine[t("browse.col.visits")], mine[t("browse.col.households_month")], mine[t("browse.col.people_month")]) \
            == (unit["visits"]["month"], unit["households_reached"]["month"], unit["people_helped"]["month"])
    code_of = {service["name"]: service["code"] for service in district_report["services"]}
    used = {(row[t("browse.col.code")], code_of[row[t("browse.col.service")]]): row[t("browse.col.people_month")]
            for row in query_json(server, "services", month=MONTH)}
    assert used == {(unit["unit"]["code"], code): flow["month"] for unit in district_report["rows"]
                    for code, flow in unit["people_by_service"].items() if flow["month"]}
    members = query_json(server, "affiliations", month=MONTH)
    assert sum(row[t("browse.col.members")] for row in members) == district_report["total"]["members"] > 0
    assert {row[t("browse.col.affiliation")] for row in members} >= {"Đoàn Thanh niên", "Hội Phụ nữ"}
    missing = {row[t("browse.col.commune")] for row in query_json(server, "not_reported", month=MONTH)}
    assert missing == {entry["unit"]["name"] for entry in district_report["completeness"] if not entry["reported"]}
    assert query_json(server, "untrained_teams", month=MONTH) and query_json(server, "quiet_hamlets", month=MONTH)


def test_no_key_journal_phone_household_code_note_or_name_is_served(served):
    area, server = served
    secret_forms = (area.secret.hex(), base64.b64encode(area.secret).decode(), base64.urlsafe_b64encode(area.secret).decode())
    root = f"http://127.0.0.1:{server.port}"
    for page in ("/-/metadata.json", "/-/databases.json", "/-/settings.json"):
        status, body = server.get(page, base=root)
        assert status == 200 and not any(mark in body for mark in (PHONE, HOUSEHOLD, NOTE, NAME, *secret_forms))
    pages = [""]
    for view in ("Thôn, tổ dân phố", "Tổ công nghệ số", "Thành viên", "Lớp tập huấn", "Lượt hỗ trợ", "Dịch vụ",
                 "Xung đột", "Các gói đã gộp"):
        pages += [path_of(view), path_of(view) + ".json?_size=max&_shape=array"]
    for table in ("member", "visit", "conflict", "site", "setting", "merge_log", "origin", "cdt_origin"):
        pages += [path_of(table), path_of(table) + ".json?_size=max&_shape=array"]
    for name in QUERIES:
        pages += [f"/{name}?month={MONTH}", f"/{name}.json?_shape=array&month={MONTH}"]
    for page in pages:
        status, body = server.get(page)
        assert status == 200, (page, status)
        for mark in (PHONE, HOUSEHOLD, NOTE, NAME, *secret_forms):
            assert mark not in body, (page, mark)
    for table in ("own_key", "pinned_key", "upstream_key", "write_log", "undo_journal", "history", "total_household"):
        status, _ = server.get(path_of(table))
        assert status == 404, table
        status, body = server.get("?" + urllib.parse.urlencode({"sql": f"select * from {table}"}))
        assert status == 400 and f"no such table: {table}" in body, table
    status, _ = server.get(".db")  # the file itself is never offered for download
    assert status == 403


def _other_address() -> str | None:
    """This machine's address on its network (no packet is sent), if it has one besides loopback."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


def test_only_this_computer_can_connect(served):
    _, server = served
    other = _other_address()
    if other is None:
        pytest.skip("this machine has no address besides 127.0.0.1")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((other, server.port), timeout=5).close()
    socket.create_connection(("127.0.0.1", server.port), timeout=5).close()


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")
def test_a_canned_query_in_chromium_shows_vietnamese_titles(served, tmp_path):
    _, server = served
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", f"{server.url}/services?month=11%2F2026"]
    result = subprocess.run(command, capture_output=True, timeout=120, text=True, encoding="utf-8")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    for text in ("Người được hỗ trợ theo dịch vụ và đơn vị", "Tháng (MM/YYYY; để trống: tháng trước)",
                 "Điền để chọn", "Xã, phường", "Dịch vụ", "Người được hỗ trợ", "Định danh điện tử VNeID", "11/2026"):
        assert text in dom, text
    assert "Custom SQL query" not in dom and "Query parameters" not in dom


def test_ctrl_c_stops_it_cleanly_on_a_commune_file_in_english(tmp_path):
    area = build_commune(tmp_path / "commune")
    before = sha(area.path)
    server = Server(area.path, tmp_path / "data", "--port", "0", lang="en")
    try:
        status, page = server.get("")
        set_language("en")
        assert status == 200 and t("browse.page.queries") in page and "Hamlets without a visit" in page
        assert "Communes that have not reported" not in page  # a commune's file merges nothing
    finally:
        set_language(None)
        code, out, err = server.stop()
    assert code == 0 and out.rstrip().splitlines()[-1] == "Stopped; the temporary copy is removed.", (out, err)
    assert not list((tmp_path / "data" / "cdt" / "scratch").glob("browse-*"))
    assert sha(area.path) == before
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
