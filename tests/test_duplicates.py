"""Duplicates are caught by one sameness rule per record; --allow-duplicate records them."""

from __future__ import annotations

import json

import pytest

from cdt.store import Store
from kits.templates import TEMPLATES


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def count(db, table):
    with Store.open(db) as store:
        return store.count(table)


@pytest.fixture
def team(cdt, commune):
    def build(_path):
        ok(cdt("hamlet", "add", "Xóm Một", "--kind", "xóm"))
        ok(cdt("team", "add", "--hamlet", "Xóm Một", "--decided-on", "01/06/2022"))

    return TEMPLATES.copy("duplicates-team", commune, build)


def test_same_member_refused_with_its_reference_and_allowed_on_request(cdt, team):
    ok(cdt("member", "add", "Lê Thị Bình", "--team", "Xóm Một", "--birth-year", "1990"))
    again = cdt("member", "add", "Lê Thị Bình", "--team", "Xóm Một", "--birth-year", "1990")
    assert again.exit_code == 1
    ref = json.loads(ok(cdt("member", "list", "--format", "json")).stdout)[0]["ref"]
    assert again.stderr == f"Lỗi: Lê Thị Bình đã có trong tổ Xóm Một (mã {ref}, 1990); nếu là hai người trùng tên, thêm --allow-duplicate\n"
    assert count(team, "member") == 1
    ok(cdt("member", "add", "Lê Thị Bình", "--team", "Xóm Một", "--birth-year", "1990", "--allow-duplicate"))
    assert count(team, "member") == 2


def test_member_sameness_is_exact_name_and_birth_year_or_phone(cdt, team):
    ok(cdt("member", "add", "Lê Thị Hà", "--team", "Xóm Một", "--birth-year", "1990", "--phone", "0912345678"))
    ok(cdt("member", "add", "Lê Thị Hạ", "--team", "Xóm Một", "--birth-year", "1990"))  # another name
    ok(cdt("member", "add", "Lê Thị Hà", "--team", "Xóm Một", "--birth-year", "1985"))  # another person
    # Same name, one of birth year or phone agreeing: the same person.
    refused = cdt("member", "add", "Lê Thị Hà", "--team", "Xóm Một", "--birth-year", "1990", "--phone", "0987654321")
    assert refused.exit_code == 1 and "đã có trong tổ Xóm Một" in refused.stderr
    # Nothing to compare (no birth year, no phone): the same name in the same team is refused too.
    refused = cdt("member", "add", "Lê Thị Hạ", "--team", "Xóm Một")
    assert refused.exit_code == 1 and "--allow-duplicate" in refused.stderr
    assert count(team, "member") == 3


def test_same_training_refused(cdt, team):
    ref = ok(cdt("training", "add", "Kỹ năng số", "--date", "01/09/2025")).stdout.split()[-1]
    again = cdt("training", "add", "Kỹ năng số", "--date", "01/09/2025")
    assert again.stderr == (f'Lỗi: buổi tập huấn "Kỹ năng số" ngày 01/09/2025 đã có (mã {ref}); '
                            "nếu đúng là hai buổi, thêm --allow-duplicate\n")
    ok(cdt("training", "add", "Kỹ năng số", "--date", "02/09/2025"))
    ok(cdt("training", "add", "Kỹ năng số", "--date", "01/09/2025", "--allow-duplicate"))
    assert count(team, "training") == 3


def test_same_visit_refused(cdt, team):
    args = ("visit", "log", "--team", "Xóm Một", "--household", "HM-001", "--people", "2", "--service", "vneid",
            "--service", "dvc", "--date", "02/09/2025")
    ref = ok(cdt(*args)).stdout
    again = cdt("visit", "log", "--team", "Xóm Một", "--household", "HM-001", "--people", "3", "--service", "dvc",
                "--service", "VNeID", "--date", "02/09/2025")  # services in another order: the same visit
    assert again.exit_code == 1 and "lượt hỗ trợ hộ HM-001 ngày 02/09/2025 của tổ Xóm Một" in again.stderr
    visit_ref = json.loads(ok(cdt("visit", "list", "--format", "json")).stdout)[0]["ref"]
    assert f"(mã {visit_ref})" in again.stderr and visit_ref in ref
    ok(cdt("visit", "log", "--team", "Xóm Một", "--household", "HM-001", "--people", "2", "--service", "dvc",
           "--date", "02/09/2025"))  # other services: another visit
    ok(cdt(*args, "--allow-duplicate"))
    assert count(team, "visit") == 3
