"""``clearrec-desktop [WORKSPACE] [--demo] [--self-test]``: start the desktop app."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..core.errors import safe_details

APP_NAME = "ClearRec Desktop"
ORG_NAME = "ClearRec"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="clearrec-desktop",
        description="Screen cannabis convictions for Prop 64 relief (offline desktop app).")
    parser.add_argument("workspace", nargs="?", type=Path,
                        help="a workspace file (.clearrec) to open; you are asked for its passphrase")
    parser.add_argument("--demo", action="store_true",
                        help="open a temporary workspace screened from the bundled demo extract")
    parser.add_argument("--self-test", action="store_true",
                        help="run a scripted check of every view without showing a window; exit 0 when all pass")
    return parser.parse_args(argv)


def make_application(argv: list[str] | None = None):
    """Create (or return) the QApplication with the app's names, high-DPI policy and style."""
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        # Fractional scale factors (125 %, 150 % on county laptops) rendered as they are, not rounded.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(list(argv) if argv is not None else [sys.argv[0]])
    QCoreApplication.setOrganizationName(ORG_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    QGuiApplication.setApplicationDisplayName(APP_NAME)
    follow_color_scheme(app)
    return app


def follow_color_scheme(app) -> None:
    """Follow the system's light or dark scheme.

    Qt already hands the system palette to the application; only the Windows "vista" style
    ignores a dark palette, so in dark mode that style is swapped for Fusion, which honours it.
    Everything painted here takes its colours from the palette."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QStyleFactory

    def apply(scheme) -> None:
        if scheme == Qt.ColorScheme.Dark and app.style().name().lower() == "windowsvista":
            app.setStyle(QStyleFactory.create("Fusion"))

    apply(app.styleHints().colorScheme())
    if not getattr(app, "_clearrec_scheme_hooked", False):
        app.styleHints().colorSchemeChanged.connect(apply)
        app._clearrec_scheme_hooked = True



def install_excepthook() -> None:
    """Show unexpected errors in a dialog with a copyable message instead of crashing."""
    previous = sys.excepthook

    def hook(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            previous(exc_type, exc, tb)
            return
        from PySide6.QtWidgets import QApplication

        from .dialogs import ErrorDialog

        if QApplication.instance() is None:
            previous(exc_type, exc, tb)
            return
        # the message of an unexpected error can quote record data: show where, not what
        ErrorDialog.show_error(None, f"Something went wrong ({exc_type.__name__}). The details below show where; "
                                     "they hold no record data and can be sent to support.", safe_details(exc))

    sys.excepthook = hook


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from ..core import offline

    offline.install_guard()  # any network use from here on raises instead of connecting
    if args.self_test:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from .selftest import run_self_test

        return run_self_test(make_application())

    app = make_application()
    install_excepthook()
    from .main_window import MainWindow, cleanup_stale_demos

    cleanup_stale_demos()  # demo workspaces of an app that was killed (a normal close deletes its own)
    window = MainWindow()
    window.show()
    if args.demo:
        window.open_demo()
    elif args.workspace is not None:
        window.open_workspace(args.workspace)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
