"""The program: arguments, the error dialog, --self-test, and the PySide6 refcount guard."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel

from clearrec_desktop.core.safety import resource_path, resources_dir
from clearrec_desktop.gui import app as gui_app
from clearrec_desktop.gui.dialogs import ErrorDialog


def test_arguments():
    args = gui_app.parse_args(["some.clearrec"])
    assert args.workspace == Path("some.clearrec") and not args.demo and not args.self_test
    assert gui_app.parse_args(["--demo"]).demo
    assert gui_app.parse_args(["--self-test"]).self_test
    with pytest.raises(SystemExit):
        gui_app.parse_args(["--no-such-option"])


def test_unexpected_error_opens_a_copyable_dialog(qtbot, monkeypatch):
    shown = []

    def fake_exec(self):
        shown.append(self)
        self.copy_to_clipboard()
        return 0

    monkeypatch.setattr(ErrorDialog, "exec", fake_exec)
    previous = sys.excepthook
    try:
        gui_app.install_excepthook()
        try:
            raise ValueError("broken state")
        except ValueError:
            sys.excepthook(*sys.exc_info())
    finally:
        sys.excepthook = previous
    assert len(shown) == 1
    # the dialog says what kind of error and where, never the message (it can quote record data)
    assert "ValueError" in shown[0].message and "broken state" not in shown[0].message
    assert "test_gui_app.py" in shown[0].details and "broken state" not in shown[0].details
    copied = QGuiApplication.clipboard().text()
    assert "ValueError" in copied and "test_gui_app.py" in copied and "broken state" not in copied


def test_application_setup(qapp):
    app = gui_app.make_application()
    assert app is qapp
    assert QGuiApplication.applicationDisplayName() == gui_app.APP_NAME


def _resources_with_demo(tmp_path: Path, demo_extract: Path) -> dict:
    """Environment for a child process; points at a resources folder holding the demo extract."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    if resource_path("demo/demo-extract.csv").is_file():
        return env
    res = tmp_path / "resources"
    (res / "demo").mkdir(parents=True)
    for sub in ("profiles", "lists"):
        (res / sub).symlink_to(resources_dir() / sub)
    (res / "demo" / "demo-extract.csv").write_bytes(demo_extract.read_bytes())
    env["CLEARREC_RESOURCES"] = str(res)
    return env


def test_self_test_passes_and_prints_each_step(tmp_path, demo_extract):
    env = _resources_with_demo(tmp_path, demo_extract)
    env["HOME"] = str(tmp_path / "home")  # the self-test must not touch the user's settings
    proc = subprocess.run([sys.executable, "-c", "from clearrec_desktop.gui.app import main; raise SystemExit(main(['--self-test']))"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) >= 8 and all(line.startswith("ok: ") for line in lines)
    assert any("undone" in line for line in lines)
    assert proc.stderr.strip() == ""
    assert not (tmp_path / "home" / ".config").exists()


def test_self_test_fails_without_the_demo_extract(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CLEARREC_RESOURCES=str(tmp_path / "empty"))
    proc = subprocess.run([sys.executable, "-c", "from clearrec_desktop.gui.app import main; raise SystemExit(main(['--self-test']))"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert "FAIL: demo extract" in proc.stderr


def test_refcount_guard_keeps_the_interpreter_alive(qtbot):
    """PySide6 6.12 on Python 3.11 drops a reference to None per void call and to True per emit
    (see clearrec_desktop/gui/__init__.py). Without the guard this loop aborts the interpreter."""
    label = QLabel()
    qtbot.addWidget(label)

    class Emitter(QObject):
        ping = Signal(int)

    emitter = Emitter()
    for i in range(60000):
        label.setText("x")
        emitter.ping.emit(i)
    if sys.version_info < (3, 12):
        assert sys.getrefcount(None) > 1 << 40
        assert sys.getrefcount(True) > 1 << 40


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None and True are immortal from Python 3.12")
def test_the_leak_the_guard_is_for_still_exists():
    """If this fails, PySide6 no longer leaks and the guard in gui/__init__.py can go."""
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication, QLabel\n"
        "app = QApplication([])\n"
        "label = QLabel()\n"
        "before = sys.getrefcount(None)\n"
        "for _ in range(1000):\n"
        "    label.setText('x')\n"
        "print(before - sys.getrefcount(None), flush=True)\n"
        "import os; os._exit(0)  # the leaked references would abort the interpreter's shutdown\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.strip()) >= 1000
