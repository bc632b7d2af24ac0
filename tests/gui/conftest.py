"""Fixtures for the GUI tests: offscreen Qt, a throw-away QSettings, no thread left behind."""

from __future__ import annotations

import os
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from gui_helpers import AS_OF  # noqa: E402
from PySide6.QtCore import QCoreApplication, QSettings, QThreadPool  # noqa: E402

import clearrec_desktop.gui  # noqa: E402,F401  (installs the refcount guard before any Qt call)
from clearrec_desktop.core.safety import resource_path  # noqa: E402


@pytest.fixture(autouse=True)
def temp_qsettings(qapp, tmp_path):
    """Point QSettings at a temporary folder so tests never read or write the user's settings."""
    QCoreApplication.setOrganizationName("ClearRecTests")
    QCoreApplication.setApplicationName("ClearRec Desktop Tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    folder = tmp_path / "qsettings"
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    QSettings().clear()
    yield folder


@pytest.fixture(autouse=True)
def no_thread_left(qapp):
    """Fail a test that leaves a worker thread (or a thread-pool job) running."""
    yield
    from clearrec_desktop.gui.workers import live_threads

    deadline = time.monotonic() + 2.0
    while (live_threads() or QThreadPool.globalInstance().activeThreadCount()) and time.monotonic() < deadline:
        qapp.processEvents()
        time.sleep(0.01)
    left = live_threads()
    pool = QThreadPool.globalInstance().activeThreadCount()
    if left or pool:
        for thread in left:
            thread.quit()
            thread.wait(5000)
        pytest.fail(f"test left {len(left)} worker thread(s) and {pool} pool job(s) running")


@pytest.fixture(scope="session")
def demo_extract(tmp_path_factory) -> Path:
    """The bundled demo extract; until it ships, one made by the core's demo generator."""
    shipped = resource_path("demo/demo-extract.csv")
    if shipped.is_file():
        return shipped
    from clearrec_desktop.core import demo

    path = tmp_path_factory.mktemp("demo") / "demo-extract.csv"
    demo.write_demo_extract(path, 3000, "SACRAMENTO", 7)
    return path


@pytest.fixture(scope="session")
def demo_run(demo_extract):
    """The demo extract screened once (statutory profile), for view tests that need results."""
    from clearrec_desktop.core import pipeline
    from clearrec_desktop.core.screen import profiles

    return pipeline.run_screen([demo_extract], county="SACRAMENTO", as_of=AS_OF,
                               profile=profiles.load_profile("statutory"))


@pytest.fixture
def errors(monkeypatch) -> list:
    """What the app would show in its error dialog, collected instead (a modal dialog would
    wait for a click in a test). A test that expects none asserts the list is empty."""
    from clearrec_desktop.gui.dialogs import ErrorDialog

    shown: list = []
    monkeypatch.setattr(ErrorDialog, "show_error",
                        staticmethod(lambda _parent, message, details="": shown.append(message)))
    return shown


@pytest.fixture
def opened_urls(monkeypatch) -> list:
    """URLs the app asked the desktop to open (the PDF viewer, a folder), recorded instead."""
    from PySide6.QtGui import QDesktopServices

    urls: list = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: urls.append(url) or True))
    return urls


@pytest.fixture
def screened_window(qtbot, tmp_path, demo_extract, errors):
    """A main window with a workspace holding one statutory run of a copy of the demo extract
    (``window.extract_copy``), ready for the Documents and Reports views and the exports."""
    from gui_helpers import PASSPHRASE, wait_idle

    from clearrec_desktop.core.screen import profiles
    from clearrec_desktop.gui.main_window import MainWindow

    extract = tmp_path / "extract" / "demo-extract.csv"
    extract.parent.mkdir()
    extract.write_bytes(demo_extract.read_bytes())
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.create_workspace(tmp_path / "ws.clearrec", PASSPHRASE, "SACRAMENTO")
    window.session.screen_files([extract], AS_OF, profiles.load_profile("statutory"), "SACRAMENTO")
    wait_idle(qtbot, window.session)
    assert window.session.run is not None, errors
    window.extract_copy = extract
    yield window
    window.close()
