"""Every option of ALTRepo's original commands is accepted by the command of the same name.

A site's scripts and cron jobs call ``task_cleaner``, ``repo_loader`` and the other
uploader commands with the options the original defined; an option we spell
differently makes such a call fail with a usage error. The table lists each original
command's options as its argparse defines them (Blarse/altrepodb at 647565d,
``bin/<command>``, every ``add_argument`` flag), and each installed command's ``--help``
must name all of them: the help is what argparse and Typer accept.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ORIGINAL_OPTIONS = {
    "acl_loader": "-c --config -d --dbname -s --host -p --port -u --user -P --password -D --debug",
    "beehive_loader": (
        "-c --config -d --dbname -s --host -p --port -u --user -P --password -D --debug"
    ),
    "bugzilla_loader": (
        "-c --config -d --dbname -s --host -p --port -u --user -P --password -D --debug"
    ),
    "image_loader": (
        "--edition --version --release --platform --variant --type --flavor --arch --branch"
        " --date --url -c --config -d --dbname -s --host -p --port -u --user -P --password"
        " -D --debug -F --force -t --dry-run"
    ),
    "iso_loader": (
        "--edition --version --release --platform --variant --flavor --arch --branch --date"
        " --url -c --config -d --dbname -s --host -p --port -u --user -P --password -D --debug"
        " -F --force -t --dry-run"
    ),
    "package_loader": (
        "-c --config -d --dbname -s --host -p --port -u --user -P --password -D --debug"
        " -F --force -f --flush-buffers"
    ),
    "repo_loader": (
        "-t --tag -c --config -d --dbname -s --host -p --port -u --user -P --password"
        " -w --workers -D --debug -v --verbose -A --date -F --force"
    ),
    "repocop_loader": (
        "-c --config -d --dbname -s --host -p --port -u --user -P --password -D --debug"
    ),
    "repodb_amqpfire": "-c --config -s --service -p --params -D --debug",
    "spdx_loader": (
        "-g --git-root -c --config -d --dbname -s --host -p --port -u --user -P --password"
        " -D --debug"
    ),
    "task_cleaner": (
        "-t --task-id -c --config -d --dbname -s --host -p --port -u --user -P --password"
        " -x --dry-run -D --debug"
    ),
    "task_loader": (
        "-c --config -d --dbname -s --host -p --port -u --user -P --password -w --workers"
        " -D --debug -J --dumpjson -F --force -f --flush-buffers"
    ),
    "uploaderd": "-c --config -s --service-dir -D --debug",
    "watch_loader": (
        "-c --config -d --dbname -s --host -p --port -u --user -P --password -D --debug"
    ),
}

_OPTION = re.compile(r"(?<![\w-])(-{1,2}[A-Za-z][\w-]*)")


@pytest.mark.parametrize("command", sorted(ORIGINAL_OPTIONS))
def test_every_original_option_is_accepted(command: str) -> None:
    found = shutil.which(command, path=str(Path(sys.executable).parent))
    assert found, f"{command} is not installed (uv sync)"
    done = subprocess.run(
        [found, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    offered = set(_OPTION.findall(done.stdout))
    missing = [o for o in ORIGINAL_OPTIONS[command].split() if o not in offered]
    assert not missing, f"{command} lacks the original's {missing}"


def test_task_cleaner_takes_the_original_task_id_spelling(tmp_path: Path) -> None:
    """``--task-id`` (the original's) and ``--task`` (ours) name the same task."""
    from repotrack.cli.task_loader import task_cleaner_parser

    parser = task_cleaner_parser()
    for spelling in ("--task-id", "--task", "-t"):
        args = parser.parse_args([str(tmp_path), spelling, "42"])
        assert args.task == 42
