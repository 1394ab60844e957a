"""The ``patch-tracking`` console script's start-up checks, run as a process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def test_missing_settings_conf_is_bad_input_not_a_start_on_defaults(tmp_path: Path) -> None:
    missing = tmp_path / "etc" / "settings.conf"
    env = {**os.environ, "REPOTRACK_HOME": str(tmp_path / "fresh-home")}
    env.pop("REPOTRACK_CONFIG", None)
    done = subprocess.run(
        [str(BIN / "patch-tracking"), "--settings-conf", str(missing), "--no-tracker"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"InputError: {missing}, --settings-conf: no such file\n"
    assert not (tmp_path / "fresh-home").exists()
