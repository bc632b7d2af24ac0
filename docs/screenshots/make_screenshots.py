"""Save a PNG of each view of ClearRec Desktop, running the real app under Xvfb.

    python docs/screenshots/make_screenshots.py [--out docs/screenshots]

Without a display it re-runs itself under ``xvfb-run`` (Debian/Ubuntu: ``apt-get install xvfb``)
so the pictures come from the X11 (xcb) platform with real fonts. The data is the bundled demo
extract (synthetic people), screened with the statutory profile as of a fixed date, in a
temporary workspace; the user's settings are not touched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# every view at both sizes: 1440x900 (file name as is) and 1366x768, still common on county laptops
SIZES = {(1440, 900): "", (1366, 768): "-1366x768"}
SIZE = (1440, 900)


def rerun_under_xvfb(argv: list[str]) -> int:
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        print("No display and no xvfb-run: install it (apt-get install xvfb) or run with a display.",
              file=sys.stderr)
        return 2
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", CLEARREC_UNDER_XVFB="1")
    width, height = max(w for w, _ in SIZES), max(h for _, h in SIZES)
    cmd = [xvfb, "-a", "-s", f"-screen 0 {width + 160}x{height + 160}x24", sys.executable, __file__, *argv]
    return subprocess.call(cmd, env=env)


def dark_palette():
    from PySide6.QtGui import QColor, QPalette

    p = QPalette()
    roles = QPalette.ColorRole
    for role, rgb in [(roles.Window, (45, 45, 48)), (roles.WindowText, (230, 230, 230)),
                      (roles.Base, (30, 30, 32)), (roles.AlternateBase, (40, 40, 44)),
                      (roles.Text, (230, 230, 230)), (roles.Button, (55, 55, 60)),
                      (roles.ButtonText, (230, 230, 230)), (roles.Highlight, (64, 128, 200)),
                      (roles.HighlightedText, (255, 255, 255)), (roles.ToolTipBase, (60, 60, 64)),
                      (roles.ToolTipText, (230, 230, 230)), (roles.PlaceholderText, (150, 150, 150)),
                      (roles.Mid, (90, 90, 95)), (roles.Light, (80, 80, 85)), (roles.Dark, (25, 25, 28)),
                      (roles.Link, (120, 170, 255))]:
        p.setColor(role, QColor(*rgb))
    p.setColor(QPalette.ColorGroup.Disabled, roles.ButtonText, QColor(120, 120, 120))
    p.setColor(QPalette.ColorGroup.Disabled, roles.Text, QColor(120, 120, 120))
    return p


def wait_idle(app, session, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while session.runner.busy:
        if time.monotonic() > deadline:
            raise RuntimeError("the worker did not finish")
        app.processEvents()
        time.sleep(0.01)
    app.processEvents()


def wait_for(app, condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("the view did not get its figures")
        app.processEvents()
        time.sleep(0.01)


def settle(app, rounds: int = 5) -> None:
    for _ in range(rounds):
        app.processEvents()
        time.sleep(0.02)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--size", help="one window size, WIDTHxHEIGHT (default: each of %s)"
                        % ", ".join(f"{w}x{h}" for w, h in SIZES))
    args = parser.parse_args(argv)
    if args.size is None:  # one process per size (one QApplication per process)
        return max(subprocess.call([sys.executable, __file__, "--out", str(args.out), "--size", f"{w}x{h}"])
                   for w, h in SIZES)
    global SIZE
    SIZE = tuple(int(x) for x in args.size.lower().split("x"))
    suffix = SIZES.get(SIZE, f"-{SIZE[0]}x{SIZE[1]}")
    if not os.environ.get("DISPLAY") and not os.environ.get("CLEARREC_UNDER_XVFB"):
        return rerun_under_xvfb(argv)
    sys.path.insert(0, str(ROOT))

    import polars as pl
    from PySide6.QtCore import QDate, QSettings, QTimer
    from PySide6.QtWidgets import QApplication, QDialogButtonBox

    from clearrec_desktop.core.screen import profiles
    from clearrec_desktop.gui.app import make_application
    from clearrec_desktop.gui.main_window import MainWindow, demo_extract_path
    from clearrec_desktop.gui.session import DEMO_AS_OF

    from clearrec_desktop.gui.dialogs import ErrorDialog

    def no_modal_error(_parent, message, details=""):  # a modal error would wait for a click forever
        raise RuntimeError(f"the app showed an error: {message}")

    ErrorDialog.show_error = staticmethod(no_modal_error)
    app = make_application()
    app.setStyle("Fusion")  # the same look on every machine that makes the pictures
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="clearrec-shots-") as tmp:
        tmp = Path(tmp)
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp / "settings"))
        extract = demo_extract_path()
        if not extract.is_file():
            from clearrec_desktop.core import demo

            extract = tmp / "demo-extract.csv"
            demo.write_demo_extract(extract, 3000, "SACRAMENTO", 7)
            print("note: the bundled demo extract is missing; using a generated one", file=sys.stderr)

        window = MainWindow()
        window.resize(*SIZE)
        window.show()
        settle(app)
        if window.width() > SIZE[0] or window.height() > SIZE[1]:  # a view's minimum size is larger
            widest = max(window.view_keys(), key=lambda k: window.view(k).minimumSizeHint().width())
            print(f"warning: the window cannot be made {SIZE[0]}x{SIZE[1]}; it is {window.width()}x"
                  f"{window.height()} (widest view: {widest}, at least "
                  f"{window.view(widest).minimumSizeHint().width()} px)", file=sys.stderr)

        taken: set[str] = set()

        def shot(name: str, widget=None) -> None:
            taken.add(name)
            settle(app)
            path = args.out / f"{name}{suffix}.png"
            if not (widget or window).grab().save(str(path)):
                raise RuntimeError(f"could not save {path}")
            print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

        # First start: the welcome, with one workspace to reopen
        QSettings().setValue("recent/workspaces", [str(tmp / "Sacramento 2026.clearrec")])
        window.create_workspace(tmp / "Sacramento 2026.clearrec", "screenshot passphrase", "SACRAMENTO")
        window.close_workspace()
        shot("welcome")
        window.open_workspace(tmp / "Sacramento 2026.clearrec", "screenshot passphrase")
        wait_idle(app, window.session)
        shot("import-empty")  # a view with nothing yet links to its part of the user guide

        # Import: the file read, counties offered, the report below
        view = window.import_view
        view.read_files([extract])
        wait_idle(app, window.session)
        view.as_of.setDate(QDate(DEMO_AS_OF.year, DEMO_AS_OF.month, DEMO_AS_OF.day))
        shot("import")
        view.screen_button.click()
        wait_idle(app, window.session)
        view.report_tabs.setCurrentIndex(1)
        shot("import-report")

        window.show_view("overview")
        shot("overview")

        # Review: a case with evidence rows and history in another county
        window.show_view("review")
        review = window.review_view
        run = window.session.run
        other = run.rows.filter(pl.col("county") != run.county).get_column("subject_id").unique().implode()
        pick = run.results.filter(pl.col("subject_id").is_in(other) & (pl.col("outcome") == "review")
                                  & (pl.col("flags") != ""))
        if pick.height == 0:
            pick = run.results.filter(pl.col("outcome") == "review")
        review.show_conviction(pick.item(0, "conviction_id"))
        shot("review")

        # A departure from the proposal asks for the reason
        def fill_and_shoot() -> None:
            dialog = QApplication.activeModalWidget()
            dialog.grounds["not_eligible"].setChecked(True)
            dialog.reason.setPlainText("Prior conviction in the court file makes this a public-safety matter")
            settle(app)
            path = args.out / "review-decision.png"
            dialog.grab().save(str(path))
            print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
            dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

        QTimer.singleShot(300, fill_and_shoot)
        review.decide("challenge")
        settle(app)

        window.show_view("policy")
        policy = window.policy_view
        others = [p for p in profiles.list_profiles() if p.id != "statutory"]
        if others:
            policy.profile_b.setCurrentIndex(policy.profile_b.findData(others[0].id))
            policy.compare()
            wait_idle(app, window.session)
        shot("policy")

        # Documents: the demo office's (fictional) details, a bulk packet built and previewed
        from clearrec_desktop.core.safety import resource_path

        window.show_view("documents")
        documents = window.documents_view
        documents.load_office_file(resource_path("demo/office.toml"))
        # the filing's posture and what goes in are never assumed: the response to DOJ's list
        documents.posture.setCurrentIndex(documents.posture.findData("doj_list"))
        documents.doj_received.setDate(QDate(2026, 9, 15))
        documents.filing_date.setDate(QDate(2026, 11, 20))
        documents.include_undecided.setChecked(True)
        if documents.build() is None:
            raise RuntimeError("the documents could not be built")
        wait_idle(app, window.session)
        wait_for(app, lambda: documents.counts is not None)
        shot("documents")
        filed = tmp / "filed"
        filed.mkdir()
        documents.save_to(filed, confirm=False)  # so the audit trail below shows the "document" entry
        wait_idle(app, window.session)

        # Reports: the impact report's figures; then its breakdowns by group
        window.show_view("reports")
        reports = window.reports_view
        wait_for(app, lambda: reports.figures is not None)
        shot("reports")
        settle(app)
        reports.scroll.verticalScrollBar().setValue(reports.who_box.y() - 8)
        shot("reports-groups")

        window.show_view("activity")
        window.activity_view.verify()
        shot("activity")

        # any view not pictured above (a view added later) as it stands after the steps above
        for key in window.view_keys():
            if key not in taken:
                window.show_view(key)
                shot(key)

        # Help > User Guide, opened at the attorney's part, beside the window
        guide_window = window.show_guide("the-attorney-review-and-decide")
        guide_window.resize(min(900, SIZE[0] - 100), SIZE[1] - 80)
        guide_window.show_section("the-attorney-review-and-decide")
        shot("guide", guide_window)
        guide_window.close()

        # The review screen with a dark system palette. Xvfb has no desktop theme to switch, so
        # the palette a dark desktop hands to Qt is set here; the app itself never sets colours.
        light = app.palette()
        app.setPalette(dark_palette())
        window.show_view("review")
        review.show_conviction(pick.item(0, "conviction_id"))
        shot("review-dark")
        app.setPalette(light)

        # Reconciliation (issue 15): the demo extract against a county export made for the same
        # people, with cases missing on either side and a few disagreements planted
        import tomllib

        from clearrec_desktop.core import demo_county

        county_file = tmp / "county-cms-export.csv"
        demo_county.write_county_export(extract, county_file, county="SACRAMENTO", seed=3,
                                        mapping_path=tmp / "county.mapping.toml")
        mapping = tomllib.loads((tmp / "county.mapping.toml").read_text(encoding="utf-8"))
        window.show_view("reconcile")
        rec = window.reconcile_view
        rec.start(extract, county_file, {"columns": mapping["columns"], "options": mapping.get("options", {})},
                  "Sacramento", DEMO_AS_OF, profiles.load_profile("statutory"))
        wait_idle(app, window.session)
        rec.count_buttons["both_disagreeing"].click()
        rec.list_table.selectRow(0)
        rec.select_link(kind="conviction")
        shot("reconciliation")

        window.close()
        settle(app)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
