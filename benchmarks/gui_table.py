"""How fast the review table shows and re-sorts 1,000,000 screening results.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_table.py [--rows 1000000]

Prints figures (no pass / fail): building the review frame, showing it in the real ReviewView's
table (model reset + first paint), re-sorting by name and by conviction date, filtering and
searching, scrolling, and the cost of one ``data()`` call. The results are synthetic (no real
person) with the results.csv columns.

A sort of a large table runs on a pool thread (issue 14): for each header click the script
prints how long the click held the GUI thread, how long until the sorted rows were shown, and
the longest the event loop went without running (a 5 ms timer measures it) from the click to
the sorted rows: that last figure is how long the window could not respond.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import polars as pl  # noqa: E402


def synthetic_results(n: int, seed: int = 1) -> pl.DataFrame:
    i = pl.int_range(n, eager=True).alias("i")

    def pick(values: list, salt: int) -> pl.Series:
        return pl.Series(values).gather((i.hash(seed + salt) % len(values)).cast(pl.Int64))

    return pl.DataFrame({
        "conviction_id": "S" + i.cast(pl.String) + "/C" + (i % 99991).cast(pl.String) + "/001001001000",
        "source_file": pl.repeat("extract.dat", n, eager=True),
        "source_line": i + 2,
        "subject_id": "S" + (i // 2).cast(pl.String),
        "cii_number": "A" + (i.hash(seed) % 100_000_000).cast(pl.String).str.zfill(8),
        "name": pick(["ALVAREZ", "BROOKS", "CHEN", "DIAZ", "EVANS", "FOSTER", "GARCIA", "HUGHES"], 1)
                + "," + pick(["ANA", "BEN", "CARLA", "DEV", "ELI", "FAY", "GUS", "HAL"], 2)
                + " " + (i.hash(seed + 3) % 1000).cast(pl.String),
        "dob": (i.hash(seed + 4) % 20000).cast(pl.Int32).cast(pl.Date),
        "gender": pick(["M", "F", "X"], 5),
        "race": pick(["HISPANIC", "BLACK", "WHITE", "ASIAN", "OTHER"], 6),
        "court_case_number": pick(["9", "0", "1"], 7) + (i.hash(seed + 8) % 100000).cast(pl.String).str.zfill(6),
        "courthouse": pick(["SUPERIOR COURT - MAIN", "SUPERIOR COURT - SOUTH", "SUPERIOR COURT - NORTH"], 9),
        "county": pl.repeat("SACRAMENTO", n, eager=True),
        "conviction_date": ((i.hash(seed + 10) % 17000).cast(pl.Int32) + 60).cast(pl.Date),
        "conviction_date_quality": pl.repeat("full", n, eager=True),
        "cycle_date": ((i.hash(seed + 10) % 17000).cast(pl.Int32) + 30).cast(pl.Date),
        "count_key": pl.repeat("001002001000", n, eager=True),
        "count": pl.repeat(1, n, dtype=pl.Int32, eager=True),
        "code_section": pick(["HS 11357(a)", "HS 11357(b)", "HS 11358", "HS 11359", "HS 11360(a)"], 11),
        "code_section_original": pl.repeat("11359 HS", n, eager=True),
        "qualifier": pl.repeat(None, n, dtype=pl.String, eager=True),
        "level": pick(["F", "M", "I"], 12),
        "age_at_offence": (i.hash(seed + 17) % 50 + 18).cast(pl.Int32),
        "age_at_conviction": (i.hash(seed + 17) % 50 + 18).cast(pl.Int32),
        "sentence_end": (i.hash(seed + 10) % 17000 + 700).cast(pl.Int32).cast(pl.Date),
        "outcome": pick(["dismiss", "reduce", "review", "ineligible"], 13),
        "relief": pick(["dismiss_and_seal", "reduce_to_misdemeanor", None], 14),
        "relief_basis": pick(["statute_dismissal", "statute_redesignation", None], 18),
        "relief_track": pick(["application", "petition", "unknown"], 15),
        "reasons": pl.repeat("Possession for sale is now a misdemeanor. [HS 11361.8(a)-(f)]", n, eager=True),
        "rules": pl.repeat("remedy", n, eager=True),
        "citations": pl.repeat("HS 11361.8(a)-(f)", n, eager=True),
        "evidence": "extract.dat:" + (i + 2).cast(pl.String),
        "flags": pick(["", "", "", "after_prop64", "juvenile;age_near_18", "date_unknown"], 16),
    })


def synthetic_rows(results: pl.DataFrame) -> pl.DataFrame:
    """One record row per result, with the columns the case detail's history reads."""
    return results.select(
        "source_file", "source_line", "subject_id", "name", "court_case_number", "courthouse", "county",
        "level", "conviction_date",
        pl.lit("001").alias("cycle"), pl.col("conviction_date").alias("cycle_date"), pl.lit("002").alias("step"),
        pl.lit("COURT ACTION").alias("step_type"), pl.col("conviction_date").alias("step_date"),
        pl.lit("001002001000").alias("count_key"), pl.lit("CONVICTED-PROBATION").alias("disposition"),
        pl.col("code_section").alias("offence_text"), pl.col("code_section").str.slice(3, 5).alias("section_num"),
        pl.lit("PROBATION").alias("sent_type"), pl.lit(3, dtype=pl.Int64).alias("sent_length"),
        pl.lit("Y").alias("sent_unit"),
    )


def timed(label: str, fn, results: list):
    start = time.perf_counter()
    value = fn()
    elapsed = time.perf_counter() - start
    results.append((label, elapsed))
    print(f"{label:<58} {elapsed * 1000:9.1f} ms", flush=True)
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    from PySide6.QtCore import QItemSelectionModel, QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    import clearrec_desktop.gui  # noqa: F401  (the PySide6 refcount guard)
    from clearrec_desktop.core.ingest.report import ImportReport
    from clearrec_desktop.gui.models import DISPLAY_ROLE, review_filter, review_frame
    from clearrec_desktop.gui.session import RunState, Session
    from clearrec_desktop.gui.views.review import ReviewView

    app = QApplication.instance() or QApplication(sys.argv[:1])
    figures: list = []
    print(f"{args.rows:,} results, Qt platform {app.platformName()}, polars {pl.__version__}", flush=True)
    results = timed("generate synthetic results (not part of the app)", lambda: synthetic_results(args.rows), [])
    from clearrec_desktop.core.screen.screening import RESULT_COLUMNS

    missing = set(RESULT_COLUMNS) - set(results.columns)
    assert not missing, f"synthetic results lack {missing}"

    session = Session()
    view = ReviewView(session)
    view.resize(1400, 900)
    view.show()
    app.processEvents()
    table, model = view.table, view.model

    def paint() -> None:
        table.viewport().repaint()
        app.processEvents()

    timed("review_frame alone (decision status, filter helpers)",
          lambda: review_frame(results, pl.DataFrame()), figures)
    rows = synthetic_rows(results)
    report = ImportReport(files=[], rows=rows.height, counties={}, rows_by_county={}, warnings={})
    state = RunState(run_id=1, results=results, rows=rows, report=report, summary={}, profile_id="statutory",
                     profile_title="Statutory", profile_text="", county="SACRAMENTO",
                     as_of=date(2026, 11, 1), import_ids=[1])

    def show() -> None:
        session._on_run_ready(state)  # what the GUI thread does when the worker hands over a run
        paint()

    timed("show in the review table (frame, reset, filters, first case, paint)", show, figures)
    assert model.rowCount() == args.rows
    # select a row in the middle so the re-sorts have a selection to keep
    middle = args.rows // 2
    rid = model.row_id(middle)
    table.selectionModel().setCurrentIndex(
        model.index(middle, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    name_col = next(i for i, c in enumerate(model.columns()) if c.key == "name")
    date_col = next(i for i, c in enumerate(model.columns()) if c.key == "conviction_date")

    header = table.horizontalHeader()

    from PySide6.QtCore import QElapsedTimer, QTimer

    def click_header(column: int, label: str) -> None:
        """Click, then run the event loop until the sorted rows are shown; report the click's
        own time, the time to the sorted rows and the longest stall of the event loop."""
        ticks: list[float] = []
        clock = QElapsedTimer()
        clock.start()
        beat = QTimer()
        beat.setInterval(5)
        beat.timeout.connect(lambda: ticks.append(clock.nsecsElapsed() / 1e6))
        beat.start()
        x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
        start = time.perf_counter()
        QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         QPoint(x, header.height() // 2))
        held = time.perf_counter() - start
        ticks.append(clock.nsecsElapsed() / 1e6)
        while model.is_sorting():
            app.processEvents()
            time.sleep(0.001)
        paint()
        shown = time.perf_counter() - start
        beat.stop()
        stall = max((b - a for a, b in zip(ticks, ticks[1:])), default=0.0)
        print(f"{label:<58} click {held * 1000:6.1f} ms, sorted rows shown after {shown * 1000:6.1f} ms, "
              f"longest event-loop stall {stall:6.1f} ms", flush=True)
        figures.append((label, shown))

    click_header(name_col, "click the Name header: sort, keep the selection, paint")
    assert model.sort_state()[0] == name_col
    assert model.row_id(table.currentIndex().row()) == rid
    click_header(name_col, "click it again: descending")
    click_header(date_col, "click the Convicted header: sort by date")
    assert model.row_id(table.currentIndex().row()) == rid

    def filter_outcome() -> None:
        model.set_filter(review_filter(outcome="reduce", section="HS 11359"))
        paint()

    timed("filter outcome + section (sorted view kept), paint", filter_outcome, figures)

    def search() -> None:
        model.set_filter(review_filter(text="garcia,ana 12"))
        paint()

    timed("search box: name substring over every row, paint", search, figures)
    model.set_filter(None)

    cid = model.record(table.currentIndex().row())["conviction_id"]
    timed("show one new decision in its row (update_where), paint",
          lambda: (model.update_where("conviction_id", cid, {"decision": "accepted (reduce)",
                                                             "_decision": "accept"}), paint()), figures)

    def scroll() -> None:
        bar = table.verticalScrollBar()
        for k in range(1, 21):
            bar.setValue(bar.maximum() * k // 20)
            paint()

    timed("scroll through the table: 20 jumps with a paint each", scroll, figures)
    index = model.index(12345, 2)
    n = 200_000
    start = time.perf_counter()
    for _ in range(n):
        model.data(index, DISPLAY_ROLE)
    per_call = (time.perf_counter() - start) / n * 1e6
    print(f"{'one data() call (display role, from Python)':<58} {per_call:9.2f} us", flush=True)
    view.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
