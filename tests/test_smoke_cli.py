def test_help_lists_commands_in_vietnamese(cdt):
    result = cdt("--help")
    assert result.exit_code == 0
    assert "Lệnh" in result.stdout and "hamlet" in result.stdout


def test_commune_session(cdt, commune):
    assert cdt("hamlet", "add", "Xóm Một", "--kind", "xóm").exit_code == 0
    listed = cdt("hamlet", "list", "--format", "json")
    assert '"Xóm Một"' in listed.stdout
