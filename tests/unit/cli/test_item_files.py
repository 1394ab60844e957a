"""Loading tracking items from YAML: every bad input gets one clear InputError."""

from __future__ import annotations

from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.tracking.item_files import (
    MAX_FILE_BYTES,
    TrackingItem,
    check_repo_url,
    load_dir,
    load_file,
    parse_items,
)

GOOD = """\
version_control: git
scm_repo: https://github.com/example/upstream
scm_branch: main
repo: https://gitee.com/example/downstream
branch: master
enabled: true
"""


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def error_of(text: str) -> str:
    with pytest.raises(InputError) as caught:
        parse_items(text, path="items.yaml")
    return str(caught.value)


def test_good_file_gives_one_item(tmp_path: Path) -> None:
    items = load_file(write(tmp_path / "a.yaml", GOOD))
    assert items == [
        TrackingItem(
            version_control="git",
            scm_repo="https://github.com/example/upstream",
            scm_branch="main",
            repo="https://gitee.com/example/downstream",
            branch="master",
            enabled=True,
        )
    ]
    assert items[0].to_json() == {
        "version_control": "git",
        "scm_repo": "https://github.com/example/upstream",
        "scm_branch": "main",
        "scm_commit": None,
        "repo": "https://gitee.com/example/downstream",
        "branch": "master",
        "enabled": True,
    }


def test_yml_suffix_comments_quotes_and_several_documents(tmp_path: Path) -> None:
    text = (
        "# first item\n"
        + GOOD
        + "scm_commit: 'abc123'\n---\n"
        + GOOD.replace("master", '"openEuler-20.03"').replace("true", "False")
    )
    items = load_file(write(tmp_path / "a.yml", text))
    assert [(i.branch, i.enabled, i.scm_commit) for i in items] == [
        ("master", True, "abc123"),
        ("openEuler-20.03", False, None),
    ]


def test_github_item_names_owner_and_repo() -> None:
    text = GOOD.replace("git\n", "github\n", 1).replace(
        "https://github.com/example/upstream", "example/upstream"
    )
    (item,) = parse_items(text)
    assert item.upstream_url == "https://github.com/example/upstream"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD + "colour: blue\n", "unknown key(s) colour"),
        (GOOD.replace("branch: master\n", ""), "missing or empty key(s): branch"),
        (GOOD.replace("enabled: true", "enabled: ''"), "missing or empty key(s): enabled"),
        (GOOD.replace("branch: master", "branch: ''"), "missing or empty key(s): branch"),
        (GOOD.replace("branch: master", "branch: 2.0"), "branch: must be a string, got float"),
        (GOOD.replace("scm_branch: main", "scm_branch: [a]"), "got list"),
        (GOOD.replace("enabled: true", "enabled: 1"), "enabled: must be true or false"),
        (GOOD.replace("enabled: true", "enabled: yes please"), "enabled: must be true or false"),
        (GOOD.replace("version_control: git", "version_control: svn"), "must be github or git"),
        (GOOD.replace("branch: master", "branch: ' master'"), "without surrounding spaces"),
        (GOOD.replace("branch: master", "branch: a..b"), "not a valid git branch name"),
        (GOOD + "scm_commit: zzz\n", "scm_commit: must be a hexadecimal commit id"),
        (GOOD + "scm_commit: 1234567\n", "scm_commit: must be a string, got int"),
        (GOOD + "repo: x\n", "duplicate key 'repo'"),
        ("- " + GOOD.replace("\n", "\n  "), "a top-level list is not supported"),
        ("just text\n", "expected a mapping of tracking fields, got str"),
        ("", "no tracking item in file"),
        ("a: [1,\n", "not valid YAML"),
        ("a: !!python/object:os.system {}\n", "not valid YAML"),
    ],
)
def test_bad_items_are_refused(text: str, expected: str) -> None:
    message = error_of(text)
    assert message.startswith("items.yaml")
    assert expected in message


def test_long_value_is_refused_with_its_length() -> None:
    message = error_of(GOOD.replace("branch: master", "branch: " + "b" * 10_000))
    assert message == "items.yaml, branch: is 10000 characters long; at most 255 allowed"


@pytest.mark.parametrize(
    "bomb",
    [
        "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n",
        GOOD.replace("main", "&m main") + "x: *m\n",
        "<<: &base {enabled: true}\n",
    ],
)
def test_anchors_and_aliases_are_refused(bomb: str) -> None:
    assert "YAML anchors and aliases are not allowed" in error_of(bomb)


def test_error_in_second_document_names_the_document() -> None:
    message = error_of(GOOD + "---\n" + GOOD.replace("enabled: true", "enabled: 7"))
    assert message.startswith("items.yaml (document 2), enabled:")


@pytest.mark.parametrize(
    "url",
    [
        "ext::sh -c touch% /tmp/pwned",
        "-uhttps://example.org/x",
        "--upload-pack=touch /tmp/x",
        "file:///etc",
        "/srv/git/repo.git",
        "https://example.org",
        "ftp://example.org/x",
        "https://exa mple.org/x",
    ],
)
def test_unsafe_or_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(InputError):
        check_repo_url(url, field="scm_repo")
    message = error_of(GOOD.replace("https://github.com/example/upstream", repr(url)))
    assert "scm_repo:" in message


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/o/r",
        "http://git.example.org/o/r.git",
        "git://127.0.0.1:9418/r.git",
        "ssh://git@example.org/o/r",
        "git@gitee.com:o/r.git",
    ],
)
def test_repository_urls_accepted(url: str) -> None:
    check_repo_url(url, field="repo")


def test_non_utf8_file_names_the_byte_offset(tmp_path: Path) -> None:
    path = write(tmp_path / "latin.yaml", GOOD.encode() + b"# caf\xe9\n")
    with pytest.raises(InputError) as caught:
        load_file(path)
    assert str(caught.value) == f"{path}, offset {len(GOOD) + 5}: file is not UTF-8 text"


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = write(tmp_path / "big.yaml", GOOD + "#" * MAX_FILE_BYTES)
    with pytest.raises(InputError, match="larger than"):
        load_file(path)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("missing.yaml", "no such file"), ("items.txt", "not a YAML file"), ("sub", "regular file")],
)
def test_file_paths_that_are_not_yaml_files(tmp_path: Path, name: str, expected: str) -> None:
    write(tmp_path / "items.txt", GOOD)
    (tmp_path / "sub").mkdir()
    with pytest.raises(InputError, match=expected):
        load_file(tmp_path / name)


def test_directory_of_mixed_entries_reports_each(tmp_path: Path) -> None:
    tmp_path = tmp_path / "items"
    tmp_path.mkdir()
    write(tmp_path / "a.yaml", GOOD)
    write(tmp_path / "b.yml", GOOD.replace("master", "dev"))
    write(tmp_path / "c.txt", GOOD)
    write(tmp_path / "d.yaml", "a: [\n")
    (tmp_path / "e").mkdir()
    entries = load_dir(tmp_path)
    assert [e.path.name for e in entries] == ["a.yaml", "b.yml", "c.txt", "d.yaml", "e"]
    assert [len(e.items) for e in entries] == [1, 1, 0, 0, 0]
    assert [e.error is None for e in entries] == [True, True, False, False, False]


def test_empty_or_missing_directory(tmp_path: Path) -> None:
    tmp_path = tmp_path / "items"
    tmp_path.mkdir()
    with pytest.raises(InputError, match="directory is empty"):
        load_dir(tmp_path)
    with pytest.raises(InputError, match="not a directory"):
        load_dir(tmp_path / "nope")
