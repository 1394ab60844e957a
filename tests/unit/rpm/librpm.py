"""Ask the real librpm (Debian's python3-rpm, outside the project venv) to compare pairs.

The project's venv has no rpm bindings, so the pairs go to ``/usr/bin/python3`` in one
batch as JSON and come back as a list of -1/0/1 from ``rpm.labelCompare``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.conftest import services_required

SYSTEM_PYTHON = Path("/usr/bin/python3")

_SCRIPT = """
import json, sys, rpm
pairs = json.load(sys.stdin)
out = [rpm.labelCompare(tuple(a), tuple(b)) for a, b in pairs]
json.dump(out, sys.stdout)
"""

EVRTriple = tuple[str | None, str, str | None]


def need_librpm() -> None:
    """Skip (fail under REPOTRACK_REQUIRE_SERVICES=1) when python3-rpm is not installed."""
    probe = (
        subprocess.run([str(SYSTEM_PYTHON), "-c", "import rpm"], capture_output=True, check=False)
        if SYSTEM_PYTHON.exists()
        else None
    )
    if probe is None or probe.returncode != 0:
        message = "python3-rpm (Debian package) is not installed for /usr/bin/python3"
        if services_required():
            pytest.fail(f"{message}; .ci/run installs it")
        pytest.skip(message)


def label_compare(pairs: Sequence[tuple[EVRTriple, EVRTriple]]) -> list[int]:
    """librpm's ``labelCompare`` of each pair of (epoch, version, release) triples."""
    need_librpm()
    done = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", _SCRIPT],
        input=json.dumps([[list(a), list(b)] for a, b in pairs]),
        capture_output=True,
        text=True,
        check=True,
    )
    return [int(x) for x in json.loads(done.stdout)]
