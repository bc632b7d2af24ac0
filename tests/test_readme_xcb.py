"""The README's apt command names every system library Qt's xcb platform plugin loads (issue 17.7).

The plugin's direct dependencies are read from its ELF header (``readelf -d``), and each soname
is turned into its Debian package name (libxcb-icccm.so.4 -> libxcb-icccm4). Libraries PySide6
ships itself and the C runtime are left out."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = {"libc", "libm", "libstdc++", "libgcc_s", "ld-linux-x86-64", "libdl", "libpthread", "librt", "libz",
           "libzstd", "libgthread-2.0"}


# sonames whose Debian package is not named by the usual rule
EXCEPTIONS = {"libglib-2.0.so.0": "libglib2.0-0", "libdbus-1.so.3": "libdbus-1-3", "libGL.so.1": "libgl1",
              "libEGL.so.1": "libegl1", "libfontconfig.so.1": "libfontconfig1"}


def debian_package(soname: str) -> str:
    if soname in EXCEPTIONS:
        return EXCEPTIONS[soname]
    name, version = re.match(r"(.+)\.so\.(\d+)", soname).groups()
    name = name.lower()
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("readelf") is None,
                    reason="reads Linux ELF files with readelf")
def test_readme_names_every_library_the_xcb_plugin_needs():
    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    files = [qt / "plugins" / "platforms" / "libqxcb.so", *sorted((qt / "lib").glob("libQt6XcbQpa.so*"))[:1]]
    files = [f for f in files if f.is_file()]
    assert files, "PySide6 ships no xcb plugin here"
    bundled = {p.name for p in (qt / "lib").iterdir()}
    needed = set()
    for f in files:
        out = subprocess.run(["readelf", "-d", str(f)], capture_output=True, text=True, check=True).stdout
        needed |= set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))
    system = {n for n in needed if n not in bundled and not n.startswith(("libQt6", "libicu"))
              and n.split(".so")[0] not in RUNTIME}
    assert any(n.startswith("libxcb-icccm") for n in system)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(r"sudo apt-get install (.+?)\n```", readme, re.S).group(1)
    packages = set(command.replace("\\", " ").split())
    missing = sorted(debian_package(n) for n in system if debian_package(n) not in packages)
    assert not missing, f"README's apt command lacks {missing}"


def test_debian_package_names():
    assert debian_package("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert debian_package("libX11-xcb.so.1") == "libx11-xcb1"
