"""``plan/`` of a task: the packages it adds to and removes from its branch (altrepo §3.2-3.3).

The ``*.list.diff`` files say what changes; the ``add-*``/``rm-*`` files add the
component and subtask of each file; the ``*.hash.diff`` files the SHA-256 that ties a
plan entry to a stored package (``TaskPlanPkgHash`` -> ``PackageHash.pkgh_sha256``).
Diff lines count only when they match ``^[+-]+[A-Za-z0-9]+\\S+`` (so ``+++``/``@@``
headers are skipped); the sign is the first character, the fields are tab separated.
"""

from __future__ import annotations

import re
from pathlib import Path

from repotrack.errors import InputError
from repotrack.sources.aptrpm import iter_header_index
from repotrack.sources.task.files import TaskFiles
from repotrack.sources.task.records import PlanEntry, PlanHash, TaskPlan

__all__ = ["read_plan"]

_DIFF_LINE = re.compile(r"^[+-]+[A-Za-z0-9]+\S+")
_ACTIONS = {"+": "add", "-": "delete"}


def read_plan(files: TaskFiles, plan_dir: Path, repo_dir: Path) -> TaskPlan:
    adds = _index(files, plan_dir / "add-src", file_field=2, subtask_field=4, comp_field=None)
    adds |= _index(files, plan_dir / "add-bin", file_field=3, subtask_field=5, comp_field=6)
    rms = _index(files, plan_dir / "rm-src", file_field=2, subtask_field=None, comp_field=None)
    rms |= _index(files, plan_dir / "rm-bin", file_field=3, subtask_field=None, comp_field=4)
    entries: list[PlanEntry] = []
    hashes: list[PlanHash] = []
    archs: dict[str, None] = {}
    for path in sorted(plan_dir.glob("*.list.diff")):
        arch = path.name.split(".", 1)[0]
        for sign, fields in _diff_lines(files, path):
            entry = _entry(files, path, arch, sign, fields, adds if sign == "+" else rms)
            entries.append(entry)
            archs[arch] = None
    for path in sorted(plan_dir.glob("*.hash.diff")):
        arch = path.name.split(".", 1)[0]
        for sign, fields in _diff_lines(files, path):
            digest = fields[0].split()[0]
            try:
                sha256 = bytes.fromhex(digest)
            except ValueError:
                raise files.error(path, f"bad sha256 {digest[:70]!r}") from None
            if len(sha256) != 32:
                raise files.error(path, f"bad sha256 {digest[:70]!r}")
            hashes.append(PlanHash(arch, _ACTIONS[sign], sha256))
            archs[arch] = None
    return TaskPlan(tuple(entries), tuple(hashes), tuple(archs), _digests(files, repo_dir))


def _diff_lines(files: TaskFiles, path: Path) -> list[tuple[str, list[str]]]:
    found = []
    for text in files.lines(path):
        if _DIFF_LINE.match(text):
            found.append((text[0], text[1:].lstrip("+-").split("\t")))
    return found


def _index(
    files: TaskFiles,
    path: Path,
    *,
    file_field: int,
    subtask_field: int | None,
    comp_field: int | None,
) -> dict[str, tuple[str, int]]:
    """``{file: (comp, subtask)}`` from an add-/rm- file."""
    found: dict[str, tuple[str, int]] = {}
    for number, text in enumerate(files.lines(path), start=1):
        fields = text.split("\t")
        if not text.strip():
            continue
        if len(fields) <= max(file_field, subtask_field or 0):
            raise files.error(path, f"line {number}: expected more tab-separated fields")
        comp = fields[comp_field] if comp_field is not None and len(fields) > comp_field else ""
        subtask = 0
        if subtask_field is not None:
            try:
                subtask = int(fields[subtask_field])
            except ValueError:
                raise files.error(path, f"line {number}: subtask is not an integer") from None
        found[fields[file_field]] = (comp, subtask)
    return found


def _entry(
    files: TaskFiles,
    path: Path,
    arch: str,
    sign: str,
    fields: list[str],
    index: dict[str, tuple[str, int]],
) -> PlanEntry:
    wanted = 3 if arch == "src" else 5
    if len(fields) < wanted:
        raise files.error(path, f"expected {wanted} tab-separated fields: {fields!r}"[:200])
    if arch == "src":
        # ALTRepo keys every plan entry by its file, sources too: tplan_bin_file is the
        # .src.rpm's name (until 2026-12-07 it was left empty).
        name, evr, src_file = fields[:3]
        bin_file, pkg_arch = src_file, "src"
    else:
        name, evr, pkg_arch, bin_file, src_file = fields[:5]
    comp, subtask = index.get(bin_file, ("", 0))
    return PlanEntry(_ACTIONS[sign], name, evr, pkg_arch, bin_file, src_file, comp, subtask)


def _digests(files: TaskFiles, repo_dir: Path) -> dict[str, tuple[bytes, bytes]]:
    """File name -> (md5, blake2b) from ``build/repo/<arch>/base/pkglist.task.xz``."""
    found: dict[str, tuple[bytes, bytes]] = {}
    for pkglist in sorted(repo_dir.glob("*/base/pkglist.task.xz")):
        try:
            for entry in iter_header_index(pkglist):
                found.setdefault(entry.filename, (entry.md5, entry.blake2b))
        except InputError as exc:
            raise files.error(pkglist, exc.reason) from exc
    return found
