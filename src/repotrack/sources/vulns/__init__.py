"""Parsers of vulnerability feeds: bytes of one file → ``VulnRecord`` / ``RecordProblem``.

``PARSERS`` maps each source name of ``repotrack load vulns SOURCE`` to its parser
(pinned by a test). Parsers never touch the store or the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

from repotrack.sources.vulns.almalinux import parse_almalinux_errata
from repotrack.sources.vulns.bdu import parse_bdu
from repotrack.sources.vulns.cpe import Cpe, parse_cpe
from repotrack.sources.vulns.csaf import parse_csaf
from repotrack.sources.vulns.cve5 import parse_cve5
from repotrack.sources.vulns.cvrf import parse_cvrf
from repotrack.sources.vulns.ghsa import parse_ghsa
from repotrack.sources.vulns.nvd import parse_nvd
from repotrack.sources.vulns.osv import parse_osv
from repotrack.sources.vulns.oval import parse_oval
from repotrack.sources.vulns.records import AffectedRange, RecordProblem, VulnRecord, names_evrs
from repotrack.sources.vulns.redhat_api import parse_redhat_cve
from repotrack.sources.vulns.updateinfo import parse_updateinfo

__all__ = [
    "PARSERS",
    "AffectedRange",
    "Cpe",
    "Parser",
    "RecordProblem",
    "VulnRecord",
    "names_evrs",
    "parse_cpe",
]

Parser = Callable[..., Iterator[VulnRecord | RecordProblem]]

PARSERS: Final[dict[str, Parser]] = {
    "nvd": parse_nvd,
    "cve5": parse_cve5,
    "osv": parse_osv,
    "ghsa": parse_ghsa,
    "csaf": parse_csaf,
    "cvrf": parse_cvrf,
    "oval": parse_oval,
    "bdu": parse_bdu,
    "almalinux": parse_almalinux_errata,
    "redhat": parse_redhat_cve,
    "updateinfo": parse_updateinfo,
}
