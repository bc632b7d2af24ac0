"""The runtime half of the offline guarantee: a Python audit hook that refuses network use.

The static half is a test that no module in clearrec_desktop imports a network module, and
URLs are refused in ``safety.local_path`` before polars or openpyxl (whose own HTTP clients
bypass Python's socket layer) ever see them.
"""

from __future__ import annotations

import sys

_NETWORK_EVENTS = {
    "socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
    "socket.sendto", "socket.sendmsg", "socket.bind", "urllib.Request", "http.client.connect",
    "ftplib.connect", "smtplib.connect", "webbrowser.open",
}
_installed = False


class NetworkRefused(RuntimeError):
    pass


def _hook(event: str, args: tuple) -> None:
    if event in _NETWORK_EVENTS:
        if event in ("socket.connect", "socket.bind") and len(args) > 1 and isinstance(args[1], (str, bytes)):
            return  # AF_UNIX path on this machine, not a network
        raise NetworkRefused(f"ClearRec Desktop never uses the network (blocked: {event})")


def install_guard() -> None:
    """Install once per process; audit hooks cannot be removed, which is the point."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True
