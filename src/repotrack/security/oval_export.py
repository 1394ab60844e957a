"""One branch's vulnerability state as OVAL 5.11 definitions (vuln-formats.md §10).

One ``vulnerability`` definition per vulnerability with a verdict in the branch:
references the vulnerability (``source="CVE"`` for CVE ids) and names the branch as the
affected platform; its criteria are ``AND(<branch release package is installed>,
OR(<one criterion per package>))``. A fixed package gives an ``rpminfo_test``
(``check="at least one"``) whose state is ``evr`` ``less than`` the branch's build
(``E:V-R``, epoch always written, ``datatype="evr_string"``); a vulnerable package with
no fix gives a test with no state ("is installed"). Packages judged not affected are
left out. Ids are ``oval:<namespace>:{def,tst,obj,ste}:<n>``, numbered in a stable order.

Written with the standard library's ElementTree; the tests validate the output against
the official OVAL XSDs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Final
from xml.etree import ElementTree as ET

from repotrack.errors import InputError
from repotrack.security.exports import Advisory, collect_advisories
from repotrack.store.base import Store

__all__ = ["export_oval", "to_oval"]

DEF_NS: Final = "http://oval.mitre.org/XMLSchema/oval-definitions-5"
COMMON_NS: Final = "http://oval.mitre.org/XMLSchema/oval-common-5"
LINUX_NS: Final = "http://oval.mitre.org/XMLSchema/oval-definitions-5#linux"
SCHEMA_VERSION: Final = "5.11.2"
_NAMESPACE: Final = re.compile(r"^[A-Za-z0-9_\-.]+$")


def _d(tag: str) -> str:
    return f"{{{DEF_NS}}}{tag}"


def _l(tag: str) -> str:
    return f"{{{LINUX_NS}}}{tag}"


class _Ids:
    """Sequential OVAL ids per kind; objects and states are shared by value."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.counts = {"def": 0, "tst": 0, "obj": 0, "ste": 0}
        self.objects: dict[str, str] = {}
        self.states: dict[str, str] = {}

    def next(self, kind: str) -> str:
        self.counts[kind] += 1
        return f"oval:{self.namespace}:{kind}:{self.counts[kind]}"


def to_oval(
    advisories: list[Advisory], *, branch: str, namespace: str, release_package: str
) -> ET.Element:
    """The ``oval_definitions`` document of a branch."""
    ET.register_namespace("", DEF_NS)
    ET.register_namespace("oval", COMMON_NS)
    ET.register_namespace("linux-def", LINUX_NS)
    root = ET.Element(_d("oval_definitions"))
    generator = ET.SubElement(root, _d("generator"))
    ET.SubElement(generator, f"{{{COMMON_NS}}}product_name").text = "repotrack"
    ET.SubElement(generator, f"{{{COMMON_NS}}}schema_version").text = SCHEMA_VERSION
    ET.SubElement(generator, f"{{{COMMON_NS}}}timestamp").text = datetime.now(UTC).strftime(
        "%Y-%m-%dT%H:%M:%S"
    )
    definitions = ET.SubElement(root, _d("definitions"))
    tests = ET.Element(_d("tests"))
    objects = ET.Element(_d("objects"))
    states = ET.Element(_d("states"))
    ids = _Ids(namespace)
    platform = _test(ids, tests, objects, states, release_package, None, f"{branch} is installed")
    for advisory in advisories:
        packages = [v for v in advisory.verdicts if v.status in ("vulnerable", "fixed")]
        if not packages:
            continue
        definition = ET.SubElement(
            definitions,
            _d("definition"),
            {"id": ids.next("def"), "version": "1", "class": "vulnerability"},
        )
        metadata = ET.SubElement(definition, _d("metadata"))
        ET.SubElement(metadata, _d("title")).text = f"{advisory.vuln_id}: {advisory.summary[:200]}"
        affected = ET.SubElement(metadata, _d("affected"), family="unix")
        ET.SubElement(affected, _d("platform")).text = branch
        source = "CVE" if advisory.vuln_id.startswith("CVE-") else advisory.vuln_id.split("-")[0]
        reference = {"source": source, "ref_id": advisory.vuln_id}
        if advisory.url:
            reference["ref_url"] = advisory.url
        ET.SubElement(metadata, _d("reference"), reference)
        ET.SubElement(metadata, _d("description")).text = advisory.summary or advisory.vuln_id
        criteria = ET.SubElement(definition, _d("criteria"), operator="AND")
        ET.SubElement(
            criteria, _d("criterion"), test_ref=platform, comment=f"{branch} is installed"
        )
        any_package = ET.SubElement(criteria, _d("criteria"), operator="OR")
        for verdict in sorted(packages, key=lambda v: v.pkg_name):
            fixed = advisory.evr(verdict) if verdict.status == "fixed" else None
            comment = (
                f"{verdict.pkg_name} is earlier than {fixed}"
                if fixed
                else f"{verdict.pkg_name} is installed"
            )
            test = _test(ids, tests, objects, states, verdict.pkg_name, fixed, comment)
            ET.SubElement(any_package, _d("criterion"), test_ref=test, comment=comment)
    for part in (tests, objects, states):
        if len(part):
            root.append(part)
    return root


def _test(
    ids: _Ids,
    tests: ET.Element,
    objects: ET.Element,
    states: ET.Element,
    name: str,
    below: str | None,
    comment: str,
) -> str:
    test_id = ids.next("tst")
    test = ET.SubElement(
        tests, _l("rpminfo_test"), id=test_id, version="1", check="at least one", comment=comment
    )
    object_id = ids.objects.get(name)
    if object_id is None:
        object_id = ids.objects[name] = ids.next("obj")
        obj = ET.SubElement(objects, _l("rpminfo_object"), id=object_id, version="1")
        ET.SubElement(obj, _l("name")).text = name
    ET.SubElement(test, _l("object"), object_ref=object_id)
    if below is not None:
        state_id = ids.states.get(below)
        if state_id is None:
            state_id = ids.states[below] = ids.next("ste")
            state = ET.SubElement(states, _l("rpminfo_state"), id=state_id, version="1")
            ET.SubElement(
                state, _l("evr"), datatype="evr_string", operation="less than"
            ).text = below
        ET.SubElement(test, _l("state"), state_ref=state_id)
    return test_id


def export_oval(
    store: Store, *, branch: str, out: Path, namespace: str, release_package: str
) -> Path:
    """Write ``<branch>.oval.xml`` into ``out`` and return its path."""
    if not _NAMESPACE.match(namespace):
        raise InputError(
            "an OVAL namespace is letters, digits, '_', '-' and '.'", field="namespace"
        )
    document = to_oval(
        collect_advisories(store, branch=branch),
        branch=branch,
        namespace=namespace,
        release_package=release_package,
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{branch}.oval.xml"
    ET.ElementTree(document).write(path, encoding="utf-8", xml_declaration=True)
    return path
