"""Spec file rewriting for a new patch series: pure text in, text out.

What the original did and what goes wrong with it (reference §5.3, §10.1 item 9), and what
this module does instead:

* ``Release: 2.oe1`` crashed it; here the first number outside macros is bumped
  (``3%{?dist}`` -> ``4%{?dist}``, ``2.oe1`` -> ``3.oe1``, ``alt1`` -> ``alt2``, pre-release
  ``0.1.rc1`` -> ``0.2.rc1``), or the ``%global`` the Release refers to. ``%autorelease``
  (rpmautospec) is left alone: the release comes from git history.
* A macro Version (``%{ver}``) became ``0.0``; here ``%global``/``%define`` macros of the
  spec are expanded for the changelog line, and the tag itself is never touched.
* Without ``%changelog`` the entry went to the top of the file; here a ``%changelog``
  section is appended. With ``%autochangelog`` no entry is written.
* Unnumbered ``Patch:`` tags were ignored; here they count as rpm numbers them (the next
  number after the previous patch), and new patches are ``Patch6000`` or the next free
  number above the highest one.
* No ``%patch`` lines were added, so the patches were never applied unless the spec used
  ``%autosetup``/``%autopatch``; here ``%patch -P <n> -p1`` lines go into ``%prep`` (after the
  last ``%patch``, else after ``%setup``) when neither applies them.
* Insertion points respect ``%if``/``%endif``: a new tag never lands inside a conditional
  block just because the last existing tag did.

The changelog header carries the packager with an e-mail, Fedora style
(``* Sat Nov 21 2026 Name <mail> - 1.0-4``) or ALT style without the dash
(``* Sat Nov 21 2026 Name <mail> 1.0-alt2``), following the spec's existing entries; the
message line keeps the original's wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from repotrack.errors import InputError

__all__ = ["FIRST_PATCH_NUMBER", "SpecUpdate", "find_spec", "spec_patches", "update_spec"]

#: The original service numbers its patches from 6000 to stay clear of a packager's own.
FIRST_PATCH_NUMBER = 6000

_SECTIONS = (
    "description|package|prep|build|install|check|clean|files|changelog|pre|post|preun|postun"
    "|pretrans|posttrans|preuntrans|postuntrans|trigger\\w*|filetrigger\\w*|transfiletrigger\\w*"
    "|verifyscript|generate_buildrequires|conf|sourcelist|patchlist"
)
_SECTION = re.compile(rf"^%({_SECTIONS})(?![\w-])")
_IF = re.compile(r"^\s*%(if|ifarch|ifnarch|ifos|ifnos)(?![\w])")
_ENDIF = re.compile(r"^\s*%endif(?![\w])")
_DEFINE = re.compile(r"^\s*%(?:global|define)\s+(\w+)\s+(.*?)\s*$")
_TAG = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]*(?:\([^)]*\))?)\s*:(\s*)(.*?)\s*$")
_PATCH_TAG = re.compile(r"^(\s*)patch(\d*)\s*:(\s*)(\S.*)$", re.IGNORECASE)
_SOURCE_TAG = re.compile(r"^\s*source\d*\s*:", re.IGNORECASE)
_MACRO = re.compile(r"%%|%\{[^{}]*\}|%\([^()]*\)|%[A-Za-z_]\w*")
_APPLY_AUTO = re.compile(r"^\s*%(autosetup|autopatch)(?![\w])(.*)$")
_APPLY_PATCH = re.compile(r"^\s*%patch(?![a-zA-Z_])")
_SETUP = re.compile(r"^\s*%(setup|autosetup)(?![\w])")
_LINE_END = re.compile(r"\r?\n")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class SpecUpdate:
    """The rewritten spec and what the changelog entry says (macros expanded, no dist tag).

    ``patches_applied_by`` says how the new patches get applied: ``"autosetup"``/``"autopatch"``
    (the spec already applies every patch), ``"patch-lines"`` (we added ``%patch`` lines) or
    ``"none"`` (no ``%prep`` section to add them to).
    """

    text: str
    version: str
    release: str
    first_patch_number: int
    patches_applied_by: str = "patch-lines"


def find_spec(paths: list[str], repo_name: str) -> str | None:
    """The spec to edit: ``<repo_name>.spec`` at the root, else the only ``*.spec`` there.

    Falls back to the only ``*.spec`` anywhere in the tree; None when there is none or the
    choice is ambiguous.
    """
    normalized = [p.strip("/") for p in paths]
    wanted = f"{repo_name}.spec"
    if wanted in normalized:
        return wanted
    at_root = [p for p in normalized if "/" not in p and p.endswith(".spec")]
    if len(at_root) == 1:
        return at_root[0]
    if at_root:
        return None
    anywhere = [p for p in normalized if p.endswith(".spec")]
    return anywhere[0] if len(anywhere) == 1 else None


def update_spec(
    text: str,
    *,
    patch_names: list[str],
    first_sha: str,
    last_sha: str,
    when: datetime,
    packager: str = "patch-tracking <patch-tracking@localhost>",
) -> SpecUpdate:
    """Add ``patch_names`` as new Patch tags, bump Release and add a changelog entry.

    Raises :class:`InputError` (field ``Version``/``Release``/``spec``) when the spec lacks
    what is needed; nothing is half-rewritten.
    """
    if not patch_names:
        raise InputError("no patches to add", field="patch_names")
    spec = _Spec(text)
    return spec.rewrite(patch_names, first_sha, last_sha, when, packager)


def spec_patches(text: str) -> list[tuple[int, str]]:
    """The spec's own patches as ``(number, file name)``, in the order rpm applies them
    with ``%autosetup``/``%autopatch`` (by number); macros in names are expanded.

    Unnumbered ``Patch:`` tags get the number after the previous one, as rpm gives them.
    A name that still holds a macro after expansion, or a URL's last path part, is kept
    as rpm would look it up in the sources directory: its base name.
    """
    if not text.strip():
        return []
    spec = _Spec(text)
    found: list[tuple[int, str]] = []
    highest = -1
    for i in spec.preamble():
        match = _PATCH_TAG.match(spec.lines[i])
        if match is None:
            continue
        number = int(match.group(2)) if match.group(2) else highest + 1
        highest = max(highest, number)
        name = spec.expand(match.group(4).strip()).rsplit("/", 1)[-1]
        found.append((number, name))
    return sorted(found)


# --------------------------------------------------------------------------- parsing


class _Spec:
    """A spec split into lines with what the rewrite needs to know about each."""

    def __init__(self, text: str) -> None:
        if not text.strip():
            raise InputError("spec file is empty", field="spec")
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.trailing_newline = text.endswith("\n")
        # Lines end at "\n" (after an optional "\r"), as rpm reads them: a form feed, a
        # lone "\r" or U+0085 inside a line belongs to it (str.splitlines breaks there).
        self.lines = _LINE_END.split(text)
        if self.trailing_newline:
            self.lines.pop()
        self.depth: list[int] = []
        self.section: list[str | None] = []
        self._reindex()
        self.defines = _defines(self.lines)

    def _reindex(self) -> None:
        """Recompute per-line facts; called after every insertion."""
        self.depth = _depths(self.lines)
        self.section = _sections(self.lines)

    # -- queries

    def preamble(self) -> range:
        end = next((i for i, s in enumerate(self.section) if s is not None), len(self.lines))
        return range(end)

    def first_tag(self, name: str) -> tuple[int, str] | None:
        for i in self.preamble():
            match = _TAG.match(self.lines[i])
            if match and match.group(1).lower() == name.lower():
                return i, match.group(3)
        return None

    def after(self, index: int) -> int:
        """The line index right after ``index``, outside any ``%if`` block it sits in."""
        if self.depth[index] == 0:
            return index + 1
        for j in range(index + 1, len(self.lines)):
            if _ENDIF.match(self.lines[j]) and self.depth[j] == 1:
                return j + 1
        return len(self.lines)

    def expand(self, value: str, _level: int = 0) -> str:
        if _level > 10:
            return value

        def one(match: re.Match[str]) -> str:
            macro = match.group(0)
            if macro == "%%":
                return macro
            inner = macro[2:-1] if macro.startswith("%{") else macro[1:]
            if macro.startswith("%("):
                return macro
            optional = inner.startswith("?")
            name, _, alt = inner.lstrip("?!").partition(":")
            if optional and alt:
                return self.expand(alt, _level + 1) if name in self.defines else ""
            if name in self.defines:
                return self.expand(self.defines[name][1], _level + 1)
            return "" if optional else macro

        return _MACRO.sub(one, value)

    # -- the rewrite

    def rewrite(
        self, names: list[str], first_sha: str, last_sha: str, when: datetime, packager: str
    ) -> SpecUpdate:
        version_tag = self.first_tag("Version")
        if version_tag is None or not version_tag[1]:
            raise InputError("spec has no Version: tag", field="Version")
        version = self.expand(version_tag[1])
        release = self._bump_release()
        epoch_tag = self.first_tag("Epoch")
        evr = f"{version}-{release}"
        if epoch_tag and self.expand(epoch_tag[1]).strip():
            evr = f"{self.expand(epoch_tag[1]).strip()}:{evr}"
        first = self._next_patch_number()
        applied_by = self._applied_by()
        numbers = list(range(first, first + len(names)))
        # Edit from the bottom up so earlier indexes stay valid.
        self._add_changelog(evr, release, first_sha, last_sha, when, packager)
        if applied_by == "patch-lines":
            applied_by = self._add_patch_lines(numbers)
        self._add_patch_tags(numbers, names)
        text = self.newline.join(self.lines) + (self.newline if self.trailing_newline else "")
        return SpecUpdate(
            text=text,
            version=version,
            release=release,
            first_patch_number=first,
            patches_applied_by=applied_by,
        )

    def _bump_release(self) -> str:
        tag = self.first_tag("Release")
        if tag is None or not tag[1]:
            raise InputError("spec has no Release: tag", field="Release")
        index, value = tag
        if "%autorelease" in value or "%{autorelease" in value:
            return self.expand(value.replace("%{autorelease}", "1").replace("%autorelease", "1"))
        if not self._bump_in_line(index, value, set()):
            raise InputError(f"no release number to bump in {value!r}", field="Release")
        self.defines = _defines(self.lines)
        new = self.first_tag("Release")
        assert new is not None
        expanded = self.expand(new[1]).strip()
        return expanded if expanded else new[1]

    def _bump_in_line(self, index: int, value: str, seen: set[str]) -> bool:
        """Bump the release number in ``value`` (found on line ``index``), maybe via a macro."""
        bumped = _bump_number(value)
        if bumped is not None:
            line = self.lines[index]
            start = line.rfind(value)
            self.lines[index] = line[:start] + bumped + line[start + len(value) :]
            return True
        first_macro = _MACRO.match(value)
        if first_macro is None:
            return False
        token = first_macro.group(0)
        name = token[2:-1] if token.startswith("%{") else token[1:]
        if name in seen or name not in self.defines:
            return False
        seen.add(name)
        def_index, def_value = self.defines[name]
        return self._bump_in_line(def_index, def_value, seen)

    def _next_patch_number(self) -> int:
        highest = -1
        for i in self.preamble():
            match = _PATCH_TAG.match(self.lines[i])
            if match:
                number = int(match.group(2)) if match.group(2) else highest + 1
                highest = max(highest, number)
        return max(FIRST_PATCH_NUMBER, highest + 1)

    def _applied_by(self) -> str:
        for line in self.lines:
            match = _APPLY_AUTO.match(line)
            if match and match.group(1) == "autopatch":
                return "autopatch"
            if match and not re.search(r"(^|\s)-N(\s|$)", match.group(2)):
                return "autosetup"
        return "patch-lines"

    def _add_changelog(
        self, evr: str, release: str, first_sha: str, last_sha: str, when: datetime, packager: str
    ) -> None:
        where = next((i for i, s in enumerate(self.section) if s == "changelog"), None)
        if where is not None and self._autochangelog(where):
            return
        dash = self._changelog_dash(where, release)
        header = f"* {_changelog_date(when)} {packager}{' - ' if dash else ' '}{evr}"
        message = f"- append patch file of upstream repository from <{first_sha}> to <{last_sha}>"
        if where is None:
            while self.lines and not self.lines[-1].strip():
                self.lines.pop()
            self.lines += ["", "%changelog", header, message]
            self.trailing_newline = True
            self._reindex()
            return
        has_entries = any(line.strip() for line in self.lines[where + 1 :])
        self.lines[where + 1 : where + 1] = [header, message, *([""] if has_entries else [])]
        self._reindex()

    def _autochangelog(self, where: int) -> bool:
        rest = [line.strip() for line in self.lines[where + 1 :] if line.strip()]
        return bool(rest) and rest[0] in ("%autochangelog", "%{autochangelog}")

    def _changelog_dash(self, where: int | None, release: str) -> bool:
        if where is not None:
            for line in self.lines[where + 1 :]:
                if line.startswith("* "):
                    after_mail = line.rsplit(">", 1)[-1].strip()
                    return after_mail.startswith("- ") or after_mail == "-"
        return not release.startswith("alt")

    def _add_patch_lines(self, numbers: list[int]) -> str:
        prep = [i for i, s in enumerate(self.section) if s == "prep"]
        if not prep:
            return "none"
        patch_lines = [i for i in prep if _APPLY_PATCH.match(self.lines[i])]
        setup_lines = [i for i in prep if _SETUP.match(self.lines[i])]
        if patch_lines:
            at = self.after(patch_lines[-1])
        elif setup_lines:
            at = self.after(setup_lines[-1])
        else:
            at = prep[0] + 1
        self.lines[at:at] = [f"%patch -P {n} -p1" for n in numbers]
        self._reindex()
        return "patch-lines"

    def _add_patch_tags(self, numbers: list[int], names: list[str]) -> None:
        pre = self.preamble()
        patches = [i for i in pre if _PATCH_TAG.match(self.lines[i])]
        sources = [i for i in pre if _SOURCE_TAG.match(self.lines[i])]
        tags = [i for i in pre if _TAG.match(self.lines[i]) and self.depth[i] == 0]
        candidates = patches or sources or tags
        at = self.after(candidates[-1]) if candidates else 0
        reference = self.lines[candidates[-1]] if candidates else ""
        new = [
            _aligned(f"Patch{number}:", name, reference)
            for number, name in zip(numbers, names, strict=True)
        ]
        self.lines[at:at] = new
        self._reindex()


def _depths(lines: list[str]) -> list[int]:
    """For each line, how many ``%if`` blocks enclose it (a ``%endif`` counts as inside)."""
    depths = []
    level = 0
    for line in lines:
        depths.append(level)
        if _IF.match(line):
            level += 1
        elif _ENDIF.match(line):
            level = max(0, level - 1)
    return depths


def _sections(lines: list[str]) -> list[str | None]:
    """The section each line belongs to (None for the main preamble)."""
    current: str | None = None
    out: list[str | None] = []
    for line in lines:
        match = _SECTION.match(line)
        if match:
            current = match.group(1)
        out.append(current)
    return out


def _defines(lines: list[str]) -> dict[str, tuple[int, str]]:
    """``%global``/``%define`` macros without arguments: name -> (line index, body)."""
    found: dict[str, tuple[int, str]] = {}
    for index, line in enumerate(lines):
        match = _DEFINE.match(line)
        if match and match.group(2):
            found.setdefault(match.group(1), (index, match.group(2)))
    return found


def _bump_number(value: str) -> str | None:
    """``value`` with its release number incremented, looking only outside macros."""
    literal = _MACRO.sub(lambda m: "\0" * len(m.group(0)), value)
    alt = re.match(r"alt(\d+)", literal)
    pre = re.match(r"0\.(\d+)", literal)
    if alt:
        span = alt.span(1)
    elif pre:
        span = pre.span(1)
    else:
        digits = re.search(r"\d+", literal)
        if digits is None:
            return None
        span = digits.span()
    number = value[span[0] : span[1]]
    bumped = str(int(number) + 1).zfill(len(number))
    return value[: span[0]] + bumped + value[span[1] :]


def _aligned(head: str, value: str, reference: str) -> str:
    """``head`` + ``value`` with the value in the same column as on the ``reference`` tag line.

    Tabs stay tabs (columns counted with 8-wide tab stops), spaces stay spaces.
    """
    match = _TAG.match(reference)
    if match is None:
        return f"{head} {value}"
    column = len(reference[: match.start(3) if match.group(3) else match.end(2)].expandtabs())
    if "\t" in match.group(2):
        pad = "\t"
        while len((head + pad).expandtabs()) < column:
            pad += "\t"
        return head + pad + value
    return head + " " * max(1, column - len(head)) + value


def _changelog_date(when: datetime) -> str:
    """``Www Mmm DD YYYY`` in English whatever the locale (rpm wants that)."""
    day = when.astimezone(UTC) if when.tzinfo else when
    return f"{_DAYS[day.weekday()]} {_MONTHS[day.month - 1]} {day.day:02d} {day.year}"
