"""The matcher's SQL reading of a mapping's CPE agrees with ``parse_cpe``.

A mapping's CPE (``PackagesNameConversion.pnc_result``) is split into its (vendor,
product, target_sw) triplet in SQL when the match targets are written, while a range's
CPE is split in Python when it is loaded (``parse_cpe``). A package matches a range only
when the two readings give the same triplet, so they must agree on every formatted
string (NISTIR 7695 §6.2: a backslash quotes the next character, ``\\\\`` a backslash).
"""

from __future__ import annotations

import random

import pytest

from repotrack.security.matching import cpe_attribute_sql
from repotrack.sources.vulns.cpe import parse_cpe
from repotrack.store import Store

#: Characters a formatted string quotes, the backslash and colon among them.
_SPECIAL = "\\:!\"#$%&'()+,/;<=>@[]^`{|}~.-*?"


def _quoted(value: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else "\\" + ch for ch in value)


def _sql_triplet(store: Store, cpe: str) -> tuple[str, str, str]:
    columns = ", ".join(cpe_attribute_sql(n) for n in (4, 5, 11))
    ((vendor, product, target_sw),) = store.query(
        f"SELECT {columns} FROM (SELECT {{cpe:String}} AS pnc_result)",  # noqa: S608
        {"cpe": cpe},
    )
    return vendor, product, target_sw


def _python_triplet(cpe: str) -> tuple[str, str, str]:
    parsed = parse_cpe(cpe)
    return parsed.vendor, parsed.product, parsed.target_sw


@pytest.mark.parametrize(
    "cpe",
    [
        "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*",
        "cpe:2.3:a:amcharts:amcharts\\:_charts_and_maps:*:*:*:*:*:wordpress:*:*",
        "cpe:2.3:a:themeisle:wp_maintenance_mode_\\&_coming_soon:*:*:*:*:*:wordpress:*:*",
        # an attribute that ends in a quoted backslash: the colon after it separates
        "cpe:2.3:a:back\\\\:slash:*:*:*:*:*:*:*:*",
        "cpe:2.3:a:v:p\\\\\\::*:*:*:*:*:x\\\\:*:*",
    ],
)
def test_known_strings(store: Store, cpe: str) -> None:
    assert _sql_triplet(store, cpe) == _python_triplet(cpe)


def test_generated_strings(store: Store) -> None:
    """500 triplets drawn from the characters a formatted string quotes, checked in one
    statement."""
    rng = random.Random(7695)
    alphabet = "ab_1" + _SPECIAL
    triplets = [
        tuple("".join(rng.choices(alphabet, k=rng.randint(1, 8))) for _ in range(3))
        for _ in range(500)
    ]
    cpes = [
        f"cpe:2.3:a:{_quoted(v)}:{_quoted(p)}:1.0:*:*:*:*:{_quoted(t)}:*:*" for v, p, t in triplets
    ]
    columns = ", ".join(cpe_attribute_sql(n) for n in (4, 5, 11))
    rows = store.query(
        f"SELECT {columns} FROM (SELECT arrayJoin({{cpes:Array(String)}}) AS pnc_result)",  # noqa: S608
        {"cpes": cpes},
    )
    assert [tuple(row) for row in rows] == [_python_triplet(c) for c in cpes] == triplets
