"""Fork mode: the token owner's fork of a downstream repository, made once and reused.

A tracking run in fork mode pushes its branch to the fork and opens the pull request on
the target from ``fork:branch``. :func:`ensure_fork` finds the fork (``GET`` of the
repository of the same name in the token owner's namespace), creates it when missing,
and waits until the forge has finished copying it: GitHub and GitLab fork in a
background job and answer before the git objects are there.

Exactly one fork: the lookup comes before the creation on every run, and a creating
POST whose answer was lost is followed by a lookup before any second POST (the HTTP
door's ``create_guarded``). A repository of that name that is *not* a fork of the
target is an error, not a fork to push to.

Whether an item runs in fork mode is :func:`fork_mode`: ``fork = true`` under
``[forges.<name>]`` for every repository of that forge, or ``fork_repos`` naming the
repositories (``owner/name`` patterns) whose items fork; direct-branch mode stays the
default.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Final

from repotrack.config import Settings
from repotrack.errors import ForgeError
from repotrack.tracking.forges import Forge, ForgeTarget

__all__ = ["DEFAULT_FORK_WAIT", "ensure_fork", "fork_mode"]

log = logging.getLogger(__name__)

#: How long a run waits for a just-requested fork to become usable.
DEFAULT_FORK_WAIT: Final = 300.0
_POLL_FIRST: Final = 0.2
_POLL_MAX: Final = 5.0


def fork_mode(settings: Settings, target: ForgeTarget) -> bool:
    """Whether items on ``target`` run in fork mode (the forge's ``fork`` or one of its
    ``fork_repos`` patterns, matched case-sensitively against ``owner/name``)."""
    forge = settings.forge(target.forge_name or target.kind)
    return forge.fork or any(fnmatchcase(target.full_name, p) for p in forge.fork_repos)


def ensure_fork(
    forge: Forge,
    target: ForgeTarget,
    *,
    wait: float = DEFAULT_FORK_WAIT,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ForgeTarget:
    """The token owner's fork of ``target``, created if missing, ready to push to."""
    owner = forge.token_owner()
    fork = forge.find_fork(target, owner)
    if fork is not None and forge.fork_ready(fork):
        return fork
    if fork is None:
        fork = forge.create_fork(target)
        log.info("fork requested", extra={"target": target.full_name, "fork": fork.full_name})
    deadline = clock() + wait
    delay = _POLL_FIRST
    while not forge.fork_ready(fork):
        if clock() >= deadline:
            raise ForgeError(
                f"the fork {fork.full_name} of {target.full_name} was not ready after "
                f"{wait:.0f} s; the next run looks again",
                forge=forge.kind,
            )
        sleep(delay)
        delay = min(delay * 2, _POLL_MAX)
    return fork
