"""Opening the embedded store does not import pyarrow (nor numpy through it).

chDB treats pyarrow as optional (Arrow result formats only, which the store does not
use), and importing it costs about 0.3 s of CPU per process: a whole store reload
spent a third of its time there. chDB imports its connection module lazily, on the
first ``chdb.connect``, so hiding pyarrow only while ``import chdb`` runs is not
enough. Checked in a fresh interpreter, as a command starts.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_SCRIPT = """
import sys
from pathlib import Path
from repotrack.store.chdb_backend import ChdbStore

store = ChdbStore(Path(sys.argv[1]))
try:
    assert store.query("SELECT 1 + 1") == [(2,)]
finally:
    store.close()
print(sorted(m for m in sys.modules if m.split(".")[0] in ("pyarrow", "numpy", "pandas")))
"""


def test_opening_and_querying_the_store_imports_no_pyarrow(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path / "store")],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
