"""Shared fixtures: every test runs against a database in its own tmp_path, never the user's.

Also: the hypothesis profile (``HYPOTHESIS_PROFILE``: dev by default, thorough for ``make
test-thorough``), commits without fsync except in tests marked ``durable``, and files built once per
session and copied into each test (``commune``, ``district``, ``good_pack``'s commune).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cdt.cli import app as cli
from cdt.core.i18n import set_language
from kits import profiles
from kits.cli import make_commune, pack
from kits.templates import TEMPLATES

profiles.register()


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                 "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def _entry(args):
    """The real entry point (error mapping included), wrapped so CliRunner can capture it."""
    sys.exit(cli.run(list(args)))


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture(scope="session", autouse=True)
def templates(tmp_path_factory):
    """The folder of this session's template files (kits/templates.py)."""
    TEMPLATES.folder = tmp_path_factory.mktemp("templates")
    yield TEMPLATES
    TEMPLATES.folder = None


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch, request):
    """Point cdt at a database, log and data folder inside tmp_path; Vietnamese by default.

    Commits skip fsync (CDT_TEST_SYNC=off, passed on to the cdt processes a test starts) unless the
    test is marked ``durable``: kills, full disks and locks run with SQLite's full sync."""
    monkeypatch.setenv("CDT_DB", str(tmp_path / "cdt.db"))
    monkeypatch.setenv("CDT_LOG", str(tmp_path / "cdt-errors.log"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "data"))
    monkeypatch.delenv("CDT_LANG", raising=False)
    monkeypatch.delenv("CDT_DEBUG", raising=False)
    if request.node.get_closest_marker("durable"):
        monkeypatch.delenv("CDT_TEST_SYNC", raising=False)
    else:
        monkeypatch.setenv("CDT_TEST_SYNC", "off")
    set_language(None)
    yield
    set_language(None)


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "cdt.db"


@pytest.fixture
def cdt():
    """Run `cdt ARGS…` in-process through the real entry point; returns exit code, stdout, stderr."""

    def invoke(*args: str, input: str | None = None) -> Result:
        runner = CliRunner()
        # "--" first: the wrapper takes every word after it as is (a "--" among them included).
        result = runner.invoke(_entry, ["--", *(str(a) for a in args)], input=input, catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    return invoke


def _init(cdt, *args: str):
    """A builder for TEMPLATES: `cdt --db PATH init ARGS…`."""

    def build(path: Path) -> None:
        result = cdt("--db", path, "init", *args)
        assert result.exit_code == 0, result.output

    return build


@pytest.fixture
def commune(cdt, db_path) -> Path:
    """A fresh commune file: Thị trấn Hùng Sơn (05761), Đại Từ, Thái Nguyên, pre-2025 structure."""
    return TEMPLATES.copy("commune-05761", db_path, _init(cdt, "--commune", "05761", "--structure", "legacy"))


@pytest.fixture
def district(cdt, tmp_path) -> Path:
    """An empty district file: Huyện Đại Từ (171), at tmp_path/district.db."""
    return TEMPLATES.copy("district-171", tmp_path / "district.db", _init(cdt, "--district", "171"))


@pytest.fixture
def good_pack(cdt, tmp_path) -> Path:
    """A pack of Hùng Sơn (05761): one hamlet, its team, a leader, a visit (kits.cli.make_commune)."""
    return pack(cdt, make_commune(cdt, tmp_path / "hungson.db", "05761"), tmp_path / "packs")


@pytest.fixture
def other_pack(cdt, tmp_path) -> Path:
    """A pack of Phúc Lương (05767) with Xóm Hai, beside good_pack's commune."""
    return pack(cdt, make_commune(cdt, tmp_path / "phucluong.db", "05767", "Xóm Hai"), tmp_path / "packs2")
