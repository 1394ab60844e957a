"""patch-tracking-cli and repotrack track: usage checks that need no server."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from repotrack.cli import patch_tracking_cli
from repotrack.cli.main import app

SERVER = ["--server", "127.0.0.1:9"]  # discard port: nothing may be sent in these tests
AUTH = ["--user", "admin", "--password", "Passw0rd~"]
DIRECT = [
    "--version_control", "git", "--scm_repo", "https://github.com/o/r", "--scm_branch", "main",
    "--repo", "https://gitee.com/o/r", "--branch", "master", "--enabled", "true",
]  # fmt: skip


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as caught:
        patch_tracking_cli.main(list(argv))
    captured = capsys.readouterr()
    code = caught.value.code
    return (code if isinstance(code, int) else 1), captured.out + captured.err


def test_no_subcommand_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(capsys)
    assert code == 2
    assert "usage: patch_tracking_cli" in output


def test_abbreviated_options_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(capsys, "query", "--serv", "127.0.0.1:9", "--table", "tracking")
    assert code == 2
    assert "the following arguments are required: --server" in output


def test_password_length_is_checked_first(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(capsys, "add", *SERVER, "--user", "a", "--password", "short", "--file", "x")
    assert code == 2
    assert output.strip() == "PASSWORD: Password length must be between 6 and 32"


def test_password_length_from_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPOTRACK_PASSWORD", "x" * 33)
    code, output = run(capsys, "delete", *SERVER, "--user", "a", "--repo", "https://e.org/o/r")
    assert (code, output.strip()) == (2, "PASSWORD: Password length must be between 6 and 32")


def test_mixing_styles_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(capsys, "add", *SERVER, *AUTH, "--repo", "r", "--dir", "d")
    assert code == 2
    assert "usage: patch_tracking_cli add" in output
    assert "patch_tracking_cli add: error: mix different usage style" in output


def test_scm_commit_with_file_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(capsys, "add", *SERVER, *AUTH, "--scm_commit", "abc123", "--file", "x.yaml")
    assert code == 2
    assert "--scm_commit cannot be combined with --file or --dir" in output


def test_presence_check_lists_missing_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(capsys, "add", *SERVER, *AUTH, "--repo", "https://gitee.com/o/r")
    assert code == 2
    assert output.splitlines()[-1] == (
        "patch_tracking_cli add: error: the following arguments are required: "
        "--branch, --scm_repo, --scm_branch, --version_control, --enabled"
    )


def test_user_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(capsys, "add", *SERVER, "--password", "Passw0rd~", *DIRECT)
    assert code == 2
    assert "the following arguments are required: --user" in output


def test_bad_value_in_direct_mode_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [a.replace("https://github.com/o/r", "ext::sh -c id") for a in DIRECT]
    code, output = run(capsys, "add", *SERVER, *AUTH, *argv)
    assert code == 2
    assert output.strip() == "Error: scm_repo: remote helper URLs (such as ext::) are refused"


def test_enabled_takes_the_original_spellings(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [a.replace("true", "yes") for a in DIRECT]
    code, output = run(capsys, "add", *SERVER, *AUTH, *argv)
    assert code == 2
    assert "invalid choice: 'yes'" in output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--file", "missing.yaml"], "yaml path error. Params error in missing.yaml"),
        (["--file", "items.txt"], "Please input yaml file. Error in items.txt"),
        (["--file", "list.yaml"], "Tracking failed for list.yaml: a top-level list"),
        (["--dir", "missing"], "error: dir path error. Params error in missing"),
        (["--dir", "empty"], "error: dir path empty"),
    ],
)
def test_file_and_dir_problems_before_any_request(
    capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    Path("items.txt").write_text("a: b\n")
    Path("list.yaml").write_text("- a: b\n")
    Path("empty").mkdir()
    code, output = run(capsys, "add", *SERVER, *AUTH, *args)
    assert code == 2
    assert output.startswith(expected)


def test_no_password_and_no_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(capsys, "add", *SERVER, "--user", "admin", *DIRECT, "--no-check")
    assert code == 2
    assert "a password is required" in output


def test_bad_server_and_cacert(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(capsys, "query", "--server", "ftp://x:1", "--table", "issue")
    assert (code, output.strip()) == (
        2,
        "Error: --server: expected host:port or an https:// URL, got 'ftp://x:1'",
    )
    code, output = run(capsys, *["query", *SERVER, "--table", "issue", "--cacert", "nope.pem"])
    assert code == 2
    assert output.startswith("Error: nope.pem: cannot load CA certificates")


def test_unreachable_server(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(capsys, "add", *SERVER, *AUTH, *DIRECT, "--no-check")
    assert code == 1
    assert output.startswith(
        "Error: Cannot connect to https://127.0.0.1:9, please make sure patch-tracking "
        "service is running.\nReason: "
    )


def test_typer_face_shares_the_checks() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["track", "add", *SERVER, *AUTH, "--repo", "r", "--file", "f"])
    assert result.exit_code == 2
    assert "Error: mix different usage style" in result.output
    result = runner.invoke(app, ["track", "add", *SERVER, *AUTH, "--scm-repo", "x"])
    assert result.exit_code == 2
    assert "required: --repo, --branch, --scm_branch" in result.output
    result = runner.invoke(app, ["track", "delete", *SERVER, "--repo", "r"])
    assert result.exit_code == 2
    assert "required: --user" in result.output


def test_track_group_lists_its_commands() -> None:
    result = CliRunner().invoke(app, ["track", "--help"])
    assert result.exit_code == 0
    for name in ("add", "query", "delete"):
        assert name in result.output
