"""Spec rewriting: golden files for real-world spec shapes, plus the edge cases one by one."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.tracking.specfile import find_spec, update_spec
from tests.conftest import DATA, need_tool

SPECS = DATA / "specs-tracking"
EXPECTED = SPECS / "expected"
FIRST = "a" * 40
LAST = "b" * 40
NAMES = [f"{FIRST}.patch", f"{LAST}.patch"]
WHEN = datetime(2026, 11, 21, 12, 30, tzinfo=UTC)
INPUTS = sorted(p.name for p in SPECS.glob("*.spec"))


def rewrite(text: str, **kwargs: object) -> str:
    args: dict[str, object] = {
        "patch_names": NAMES,
        "first_sha": FIRST,
        "last_sha": LAST,
        "when": WHEN,
    }
    args.update(kwargs)
    return update_spec(text, **args).text  # type: ignore[arg-type]


@pytest.mark.parametrize("name", INPUTS)
def test_golden(name: str) -> None:
    produced = rewrite((SPECS / name).read_text())
    golden = EXPECTED / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(produced)
    assert produced == golden.read_text()


@pytest.mark.parametrize("name", INPUTS)
def test_golden_output_parses_with_rpmspec(name: str, tmp_path: Path) -> None:
    """rpm itself reads every rewritten spec and sees the new patches as numbered sources."""
    rpmspec = need_tool("rpmspec")
    spec = tmp_path / name
    shutil.copy(EXPECTED / name, spec)
    parsed = subprocess.run(
        [rpmspec, "-P", "--define", "dist .fc40", str(spec)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"{FIRST}.patch" in parsed and f"{LAST}.patch" in parsed
    sources = subprocess.run(
        [rpmspec, "-q", "--srpm", "--qf", "[%{PATCH}\\n]", str(spec)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert sources[-2:] == NAMES or set(NAMES) <= set(sources)


def test_fedora_shape() -> None:
    update = update_spec(
        (SPECS / "fedora.spec").read_text(),
        patch_names=NAMES,
        first_sha=FIRST,
        last_sha=LAST,
        when=WHEN,
    )
    assert (update.version, update.release, update.first_patch_number) == ("2.12.1", "4", 6000)
    assert update.patches_applied_by == "autosetup"
    assert "Release:        4%{?dist}\n" in update.text
    assert "Patch1:         hello-gcc14.patch\nPatch6000:      " in update.text
    assert (
        "%changelog\n* Sat Nov 21 2026 patch-tracking <patch-tracking@localhost> - 2.12.1-4\n"
        f"- append patch file of upstream repository from <{FIRST}> to <{LAST}>\n\n"
        "* Thu Jan 18 2024" in update.text
    )
    assert "%patch" not in update.text


def test_openeuler_dotted_release() -> None:
    update = update_spec(
        (SPECS / "openeuler.spec").read_text(),
        patch_names=NAMES,
        first_sha=FIRST,
        last_sha=LAST,
        when=WHEN,
    )
    assert update.release == "3.oe1"
    assert "Release:\t3.oe1\n" in update.text
    assert update.patches_applied_by == "autopatch"


def test_alt_style() -> None:
    update = update_spec(
        (SPECS / "alt.spec").read_text(),
        patch_names=NAMES,
        first_sha=FIRST,
        last_sha=LAST,
        when=WHEN,
        packager="Robot <robot@altlinux.org>",
    )
    assert update.release == "alt2"
    assert "* Sat Nov 21 2026 Robot <robot@altlinux.org> 1.0-alt2\n" in update.text
    # ALT's unnumbered Patch is 0, Patch1 follows: new ones still start at 6000
    assert "%patch1 -p1\n%patch -P 6000 -p1\n%patch -P 6001 -p1\n" in update.text


def test_macro_version_and_conditional_patch() -> None:
    text = (SPECS / "macro-version.spec").read_text()
    update = update_spec(text, patch_names=NAMES, first_sha=FIRST, last_sha=LAST, when=WHEN)
    assert (update.version, update.release) == ("2.4.1", "6")
    assert "%global rel 6\n" in update.text
    assert "Release:        %{rel}%{?dist}\n" in update.text
    # new tags and %patch lines go after the %endif, not inside the conditional
    assert "%endif\nPatch6000:" in update.text
    assert "%patch1 -p1\n%endif\n%patch -P 6000 -p1\n%patch -P 6001 -p1\n" in update.text


def test_unnumbered_patches_and_no_changelog() -> None:
    update = update_spec(
        (SPECS / "unnumbered-patch.spec").read_text(),
        patch_names=NAMES,
        first_sha=FIRST,
        last_sha=LAST,
        when=WHEN,
    )
    assert update.release == "0.2.rc1"
    assert update.patches_applied_by == "autopatch"
    assert "Patch:          tinytool-man.patch\nPatch6000:" in update.text
    assert update.text.endswith(
        "\n%changelog\n* Sat Nov 21 2026 patch-tracking <patch-tracking@localhost> - 0.9-0.2.rc1\n"
        f"- append patch file of upstream repository from <{FIRST}> to <{LAST}>\n"
    )
    assert update.text.startswith("Name:")


def test_existing_patch6003_continues_numbering() -> None:
    update = update_spec(
        (SPECS / "patch6003.spec").read_text(),
        patch_names=NAMES,
        first_sha=FIRST,
        last_sha=LAST,
        when=WHEN,
    )
    assert update.first_patch_number == 6004
    assert f"Patch6004:      {FIRST}.patch\nPatch6005:      {LAST}.patch\n" in update.text


def test_many_unnumbered_patches_above_6000() -> None:
    lines = "".join(f"Patch:    p{i}.patch\n" for i in range(3))
    text = f"Name: x\nVersion: 1\nRelease: 1\nPatch5999: a.patch\n{lines}\n%prep\n%autosetup\n"
    update = update_spec(text, patch_names=NAMES, first_sha=FIRST, last_sha=LAST, when=WHEN)
    # the three unnumbered ones are 6000, 6001, 6002 in rpm's numbering
    assert update.first_patch_number == 6003


def test_autosetup_without_patches_gets_patch_lines() -> None:
    text = (
        "Name: x\nVersion: 1\nRelease: 1\nSource0: x.tar\n\n%prep\n%autosetup -N -n x\n\n%build\n"
    )
    update = update_spec(text, patch_names=NAMES, first_sha=FIRST, last_sha=LAST, when=WHEN)
    assert "%autosetup -N -n x\n%patch -P 6000 -p1\n%patch -P 6001 -p1\n\n%build" in update.text
    assert "Source0: x.tar\nPatch6000: " in update.text


def test_autorelease_and_autochangelog_are_left_to_rpmautospec() -> None:
    text = (
        "Name: x\nVersion: 1.0\nRelease: %autorelease\nSource0: x.tar\n\n%prep\n%autosetup -p1\n"
        "\n%changelog\n%autochangelog\n"
    )
    update = update_spec(text, patch_names=NAMES, first_sha=FIRST, last_sha=LAST, when=WHEN)
    assert "Release: %autorelease\n" in update.text
    assert update.text.endswith("%changelog\n%autochangelog\n")
    assert "Patch6001:" in update.text


def test_crlf_line_endings_are_kept() -> None:
    text = "Name: x\r\nVersion: 1\r\nRelease: 1\r\n\r\n%prep\r\n%autosetup\r\n"
    out = rewrite(text)
    assert "\r\n" in out and "\n" not in out.replace("\r\n", "")


def test_epoch_goes_into_changelog_evr() -> None:
    text = "Name: x\nEpoch: 2\nVersion: 1\nRelease: 1\n\n%prep\n%autosetup\n%changelog\n"
    assert "> - 2:1-2\n" in rewrite(text)


def test_no_prep_means_no_patch_lines() -> None:
    text = "Name: x\nVersion: 1\nRelease: 1\n"
    update = update_spec(text, patch_names=NAMES, first_sha=FIRST, last_sha=LAST, when=WHEN)
    assert update.patches_applied_by == "none"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("", "spec"),
        ("   \n", "spec"),
        ("Name: x\nRelease: 1\n", "Version"),
        ("Name: x\nVersion: 1\n", "Release"),
        ("Name: x\nVersion: 1\nRelease: %{undefined_macro}\n", "Release"),
    ],
)
def test_bad_specs_are_refused(text: str, field: str) -> None:
    with pytest.raises(InputError) as caught:
        rewrite(text)
    assert caught.value.field == field


def test_no_patches_is_refused() -> None:
    with pytest.raises(InputError):
        rewrite("Name: x\nVersion: 1\nRelease: 1\n", patch_names=[])


def test_find_spec() -> None:
    assert find_spec(["README", "hello.spec", "other.spec"], "hello") == "hello.spec"
    assert find_spec(["README", "pkg.spec", "sub/x.spec"], "hello") == "pkg.spec"
    assert find_spec(["a.spec", "b.spec"], "hello") is None
    assert find_spec(["rpm/only.spec", "src/main.c"], "hello") == "rpm/only.spec"
    assert find_spec(["rpm/a.spec", "rpm/b.spec"], "hello") is None
    assert find_spec([], "hello") is None


def test_lines_break_at_newlines_only_and_the_rest_is_kept_as_it_was(tmp_path: Path) -> None:
    """rpm reads a spec line by line at ``\\n``: a form feed (an editor's page break), a
    lone ``\\r`` or U+0085 inside a line is part of it. The rewrite keeps each line it
    does not edit as it was; ``str.splitlines`` broke lines at those characters too, so
    ``Summary: Foo\\x85bar`` came back as two lines, the second no tag at all."""
    odd = ["\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\r"]
    spec = (
        "Name: foo\nVersion: 1.0\nRelease: alt1\n"
        + "".join(f"# note {n}: a{ch}b\n" for n, ch in enumerate(odd))
        + "Summary: Foo\x85bar\nLicense: MIT\n\n%description\nFoo.\x0c\n\n%prep\n%setup\n\n"
        "%changelog\n* Mon Jan 01 2024 A <a@b> 1.0-alt1\n- initial\u2028more\n"
    )
    produced = rewrite(spec)
    before, after = spec.split("\n"), produced.split("\n")
    kept = [line for line in before if not line.startswith("Release:")]
    rest = iter(after)
    assert all(line in rest for line in kept)  # each kept line, in order, none split
    assert "Release: alt2" in after
    rpmspec = shutil.which("rpmspec")
    if rpmspec is not None:  # rpm reads the rewritten spec, odd characters and all
        path = tmp_path / "foo.spec"
        path.write_text(produced)
        done = subprocess.run(
            [rpmspec, "-q", "--srpm", "--qf", "%{SUMMARY}|[%{PATCH} ]", str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        summary, patches = done.stdout.split("|")
        assert summary == "Foo\x85bar"
        assert sorted(patches.split()) == sorted(NAMES)
