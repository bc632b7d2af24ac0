"""Offline and layering guarantees, checked statically and at run time."""

from __future__ import annotations

import ast
import socket
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "clearrec_desktop"
NETWORK_MODULES = {"socket", "ssl", "http", "urllib.request", "urllib3", "requests", "httpx", "aiohttp", "ftplib",
                   "smtplib", "xmlrpc", "asyncio.streams", "websocket", "PySide6.QtNetwork", "PySide6.QtWebEngineCore",
                   "PySide6.QtWebEngineWidgets", "PySide6.QtWebSockets", "PySide6.QtWebChannel", "webbrowser"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _hits(names: set[str], forbidden: set[str]) -> set[str]:
    return {n for n in names for f in forbidden if n == f or n.startswith(f + ".")}


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_network_module_anywhere(path):
    assert not _hits(imports_of(path), NETWORK_MODULES)


@pytest.mark.parametrize("path", sorted((PACKAGE / "core").rglob("*.py")), ids=lambda p: p.name)
def test_core_imports_no_qt(path):
    assert not _hits(imports_of(path), {"PySide6", "shiboken6", "PyQt5", "PyQt6"})


def test_runtime_guard_refuses_sockets():
    code = ("from clearrec_desktop.core import offline; offline.install_guard()\n"
            "import socket\n"
            "try:\n    socket.create_connection(('127.0.0.1', 9), timeout=1)\n"
            "except offline.NetworkRefused as e:\n    print('refused', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.startswith("refused") and "never uses the network" in out.stdout


def test_cli_installs_the_guard(tmp_path, monkeypatch):
    from clearrec_desktop import cli
    from clearrec_desktop.core import offline
    cli.main(["profiles"])
    assert offline._installed
    with pytest.raises(offline.NetworkRefused):
        socket.getaddrinfo("localhost", 80)


def test_unexpected_error_details_hold_no_message():
    from clearrec_desktop.core.errors import safe_details
    try:
        try:
            raise ValueError("could not parse DOE,JANE 19700101")
        except ValueError as inner:
            raise RuntimeError("while reading A1234567") from inner
    except RuntimeError as exc:
        text = safe_details(exc)
    assert "ValueError" in text and "RuntimeError" in text and "test_offline.py" in text
    assert "DOE" not in text and "19700101" not in text and "A1234567" not in text
