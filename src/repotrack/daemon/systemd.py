"""``sd_notify`` for ``Type=notify`` units, without a dependency: one datagram per state.

systemd sets ``NOTIFY_SOCKET`` for the service; outside systemd it is unset and every
call is a no-op. An abstract socket is written with a leading ``@``.
"""

from __future__ import annotations

import os
import socket

__all__ = ["notify"]


def notify(state: str) -> bool:
    """Send ``state`` (``READY=1``, ``STOPPING=1``, ``STATUS=...``); False outside systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(state.encode(), address)
        except OSError:
            return False
    return True
