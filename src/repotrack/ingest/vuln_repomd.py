"""``load vulns updateinfo`` given a repository rather than its updateinfo file.

The updateinfo file of a yum/dnf repository is named by its checksum and renamed with
every change (``repodata/3f1c…-updateinfo.xml.gz``); what stays put is
``repodata/repomd.xml``, which names it. So a user may give the repository as a URL
(its base, its ``repodata/`` or its ``repomd.xml``) or a local ``repomd.xml``: the
updateinfo file is found through ``repomd.xml`` and read from there, relative to the
repository's base, and its bytes are checked against the checksum ``repomd.xml``
states. A mismatch (a mirror caught while it syncs, a cut download) is an
``InputError`` naming both files: nothing of that file is loaded. A repository whose
``repomd.xml`` lists no updateinfo is an ``InputError`` too.

Over HTTP the ``repomd.xml`` is asked for conditionally, as every feed file is
(``vuln_fetch``): unchanged, the repository's advisories are not read again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final
from urllib.parse import urljoin, urlsplit

from repotrack.errors import InputError
from repotrack.sources.vulns.updateinfo import UpdateinfoLocation, updateinfo_location

__all__ = [
    "REPOMD",
    "UPDATEINFO",
    "check_checksum",
    "local_updateinfo",
    "repomd_url",
    "updateinfo_url",
]

UPDATEINFO: Final = "updateinfo"
REPOMD: Final = "repomd.xml"


def repomd_url(url: str) -> str | None:
    """The ``repomd.xml`` a repository URL means (its base or ``repodata/``, with or
    without the trailing slash, or the file itself); None for any other file URL."""
    path = urlsplit(url).path
    if path.endswith("/" + REPOMD):
        return url
    if path.rstrip("/").endswith("/repodata"):
        return url.rstrip("/") + "/" + REPOMD
    if path.endswith("/") or not path:
        return url.rstrip("/") + "/repodata/" + REPOMD
    return None


def updateinfo_url(repomd: str, location: UpdateinfoLocation) -> str:
    """The updateinfo file's URL: ``location.href`` is relative to the repository's
    base, the directory above ``repodata/``."""
    base = repomd.removesuffix(REPOMD).rstrip("/").removesuffix("repodata") or repomd
    return urljoin(base if base.endswith("/") else base + "/", location.href)


def local_updateinfo(repomd: Path) -> Path:
    """The updateinfo file a local ``repomd.xml`` names, checked against its checksum."""
    location = updateinfo_location(repomd.read_bytes(), path=str(repomd))
    if location is None:
        raise InputError("the repository lists no updateinfo", path=str(repomd))
    found = repomd.parent.parent / location.href
    try:
        data = found.read_bytes()
    except OSError as exc:
        raise InputError(
            f"the updateinfo that {repomd} names cannot be read: {exc.strerror}", path=str(found)
        ) from exc
    check_checksum(data, location, where=str(found), repomd=str(repomd))
    return found


def check_checksum(data: bytes, location: UpdateinfoLocation, *, where: str, repomd: str) -> None:
    """Raise ``InputError`` when ``data`` is not the file ``repomd.xml`` describes
    (a checksum of a kind hashlib does not know is not checked)."""
    if not location.checksum or location.checksum_type not in hashlib.algorithms_guaranteed:
        return
    digest = hashlib.new(location.checksum_type, data).hexdigest()
    if digest != location.checksum:
        raise InputError(
            f"its {location.checksum_type} is {digest}, not {location.checksum} as {repomd} "
            "states (a mirror being synced, or a cut download?)",
            path=where,
        )
