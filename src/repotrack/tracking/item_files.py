"""Tracking items from YAML files and directories: parsing and validation, no network.

The original ``patch-tracking-cli`` split lines at the first colon instead of parsing
YAML, rejected ``.yml`` and ignored unknown keys (reference §4.1, §10.1 #14). Here:

* files are real YAML (``yaml.safe_load_all``), ``.yaml`` or ``.yml``, UTF-8;
* one file may hold several items as several documents separated by ``---``; a
  top-level *list* is refused, because the issue that asked for this names it bad input;
* anchors and aliases are refused outright and files are capped in size, so a
  "billion laughs" file cannot expand in memory;
* every item is checked field by field (unknown or missing keys, types, empty strings,
  lengths, URL syntax) and a bad file raises ``InputError`` naming the file, the
  document and the field. A file is all-or-nothing: one bad item rejects the file.

URL syntax is checked here so that bad input never reaches the network; whether the
repository and branch exist is a separate, networked check done by the CLI.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from repotrack.errors import InputError

__all__ = [
    "FIELDS",
    "MAX_FILE_BYTES",
    "REQUIRED_FIELDS",
    "YAML_SUFFIXES",
    "DirEntry",
    "TrackingItem",
    "check_repo_url",
    "item_from_mapping",
    "load_dir",
    "load_file",
    "parse_items",
]

#: The seven fields of a tracking item, in the original's order (reference §2.3).
FIELDS = ("version_control", "scm_repo", "scm_branch", "scm_commit", "repo", "branch", "enabled")
#: Everything but ``scm_commit`` must be given; the order is the original CLI's message order.
REQUIRED_FIELDS = ("repo", "branch", "scm_repo", "scm_branch", "version_control", "enabled")
VERSION_CONTROLS = ("github", "git")
YAML_SUFFIXES = (".yaml", ".yml")
#: A tracking file holds a handful of short strings; 256 KiB leaves room for hundreds of items.
MAX_FILE_BYTES = 256 * 1024
#: Same limits as the state database columns (repotrack.state.models), checked before sending.
_MAX_LEN = {"scm_repo": 1024, "repo": 1024, "scm_branch": 255, "branch": 255, "scm_commit": 64}
_ENABLED_WORDS = {"true": True, "True": True, "false": False, "False": False}
_GITHUB_NAME = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_URL = re.compile(r"(?P<scheme>https?|git|ssh)://[^/\s]+/\S+")
_SCP_LIKE = re.compile(r"[A-Za-z0-9_.-]+@[A-Za-z0-9.-]+:[^\s/][^\s]*")
_SHA = re.compile(r"[0-9a-fA-F]{4,64}")
_BRANCH_BAD = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")


@dataclass(frozen=True)
class TrackingItem:
    """One tracking item as the server's ``POST /tracking`` takes it."""

    version_control: str
    scm_repo: str
    scm_branch: str
    repo: str
    branch: str
    enabled: bool = True
    scm_commit: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The request body, keys in the original's order."""
        return {name: getattr(self, name) for name in FIELDS}

    @property
    def upstream_url(self) -> str:
        """The clonable upstream URL (``github`` items name ``owner/repo`` only)."""
        if self.version_control == "github":
            return f"https://github.com/{self.scm_repo}"
        return self.scm_repo


@dataclass(frozen=True)
class DirEntry:
    """One entry of a ``--dir`` directory: its items, or why it was not loaded."""

    path: Path
    items: tuple[TrackingItem, ...] = ()
    error: InputError | None = None


def check_repo_url(url: str, *, field: str, path: str | None = None) -> None:
    """Refuse URLs git must not be handed: options (``-...``), ``ext::``, local paths.

    Allowed: ``https``, ``http``, ``git`` and ``ssh`` URLs, and scp-like
    ``user@host:path``. The server applies its own policy as well.
    """
    if url.startswith("-"):
        raise InputError("URL must not start with '-'", path=path, field=field)
    if "::" in url.split("/", 1)[0]:
        raise InputError("remote helper URLs (such as ext::) are refused", path=path, field=field)
    if not (_URL.fullmatch(url) or _SCP_LIKE.fullmatch(url)):
        raise InputError(
            f"{url!r} is not an https, http, git or ssh repository URL", path=path, field=field
        )


def item_from_mapping(data: Mapping[Any, Any], *, path: str | None = None) -> TrackingItem:
    """Validate one item; ``path`` names where it came from in messages."""

    def bad(message: str, field: str | None = None) -> InputError:
        return InputError(message, path=path, field=field)

    unknown = [str(key) for key in data if key not in FIELDS]
    if unknown:
        allowed = ", ".join(FIELDS)
        raise bad(f"unknown key(s) {', '.join(unknown)}; allowed keys: {allowed}")
    missing = [name for name in REQUIRED_FIELDS if data.get(name) in (None, "")]
    if missing:
        raise bad(f"missing or empty key(s): {', '.join(missing)}")
    values = {name: _string_field(data, name, bad) for name in FIELDS if name != "enabled"}
    item = TrackingItem(
        version_control=str(values["version_control"]),
        scm_repo=str(values["scm_repo"]),
        scm_branch=str(values["scm_branch"]),
        scm_commit=values["scm_commit"],
        repo=str(values["repo"]),
        branch=str(values["branch"]),
        enabled=_enabled_field(data["enabled"], bad),
    )
    _check_values(item, bad)
    return item


def _string_field(data: Mapping[Any, Any], name: str, bad: Any) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad(f"must be a string, got {type(value).__name__} (quote it in YAML)", name)
    if value != value.strip() or not value:
        raise bad("must be a non-empty string without surrounding spaces", name)
    limit = _MAX_LEN.get(name)
    if limit is not None and len(value) > limit:
        raise bad(f"is {len(value)} characters long; at most {limit} allowed", name)
    return value


def _enabled_field(value: Any, bad: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in _ENABLED_WORDS:
        return _ENABLED_WORDS[value]
    raise bad(f"must be true or false, got {value!r}"[:200], "enabled")


def _check_values(item: TrackingItem, bad: Any) -> None:
    if item.version_control not in VERSION_CONTROLS:
        raise bad(f"must be github or git, got {item.version_control!r}", "version_control")
    for name in ("scm_branch", "branch"):
        if _BRANCH_BAD.search(getattr(item, name)) or getattr(item, name).startswith("-"):
            raise bad("is not a valid git branch name", name)
    if item.scm_commit is not None and not _SHA.fullmatch(item.scm_commit):
        raise bad("must be a hexadecimal commit id", "scm_commit")
    if item.version_control == "github":
        if not _GITHUB_NAME.fullmatch(item.scm_repo):
            raise bad("must be owner/name for version_control github", "scm_repo")
    else:
        _check_url(item.scm_repo, "scm_repo", bad)
    _check_url(item.repo, "repo", bad)


def _check_url(url: str, field: str, bad: Any) -> None:
    try:
        check_repo_url(url, field=field)
    except InputError as exc:
        raise bad(exc.reason, field) from None


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors, aliases and duplicate keys.

    Refusing aliases is what defeats YAML bombs; refusing duplicate keys stops a typo
    from silently overriding an earlier value.
    """

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused("YAML anchors and aliases are not allowed", event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = key_node.value
            if key in seen:
                raise _Refused(f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _Refused(yaml.YAMLError):
    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


def parse_items(text: str, *, path: str | None = None) -> list[TrackingItem]:
    """All items of one YAML text (one mapping per ``---`` document)."""
    documents = list(_documents(text, path))
    items = []
    for number, document in enumerate(documents, start=1):
        if document is None:
            continue
        where = f"{path or '<text>'} (document {number})" if len(documents) > 1 else path
        if isinstance(document, list):
            raise InputError(
                "a top-level list is not supported; write one mapping per "
                "document and separate documents with '---'",
                path=where,
            )
        if not isinstance(document, dict):
            raise InputError(
                f"expected a mapping of tracking fields, got {type(document).__name__}",
                path=where,
            )
        items.append(item_from_mapping(document, path=where))
    if not items:
        raise InputError("no tracking item in file", path=path)
    return items


def _documents(text: str, path: str | None) -> Iterator[Any]:
    loader = _StrictLoader(text)
    try:
        while loader.check_data():  # type: ignore[no-untyped-call]
            yield loader.get_data()
    except _Refused as exc:
        raise InputError(f"{_line(exc.mark)}{exc.message}", path=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{_line(mark)}not valid YAML: {problem}", path=path) from None
    finally:
        loader.dispose()


def _line(mark: Any) -> str:
    return f"line {mark.line + 1}: " if mark is not None else ""


def load_file(path: Path) -> list[TrackingItem]:
    """The items of one ``.yaml``/``.yml`` file; ``InputError`` naming the file otherwise."""
    name = str(path)
    if not path.exists():
        raise InputError("no such file", path=name)
    if not path.is_file():
        raise InputError("not a regular file", path=name)
    if path.suffix not in YAML_SUFFIXES:
        raise InputError("not a YAML file (expected a .yaml or .yml name)", path=name)
    with path.open("rb") as stream:
        raw = stream.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(f"file is larger than {MAX_FILE_BYTES} bytes", path=name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("file is not UTF-8 text", path=name, offset=exc.start) from None
    return parse_items(text, path=name)


def load_dir(path: Path) -> list[DirEntry]:
    """Every entry of a directory (not recursive), sorted by name, each loaded or refused.

    A bad entry does not stop the others: the caller reports each and carries on.
    """
    name = str(path)
    if not path.is_dir():
        raise InputError("not a directory", path=name)
    entries = sorted(path.iterdir())
    if not entries:
        raise InputError("directory is empty", path=name)
    return [_dir_entry(entry) for entry in entries]


def _dir_entry(entry: Path) -> DirEntry:
    try:
        return DirEntry(path=entry, items=tuple(load_file(entry)))
    except InputError as exc:
        return DirEntry(path=entry, error=exc)
