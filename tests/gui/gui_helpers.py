"""Helpers shared by the GUI tests (fixtures live in conftest.py)."""

from __future__ import annotations

from datetime import date

import polars as pl
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

AS_OF = date(2026, 11, 1)
PASSPHRASE = "correct horse battery"


def wait_idle(qtbot, session, timeout_ms: int = 60000) -> None:
    qtbot.waitUntil(lambda: not session.runner.busy, timeout=timeout_ms)


def answer_next_dialog(handler, *, attempts: int = 200) -> list:
    """Run ``handler(dialog)`` on the next modal dialog, from the event loop it runs in.

    Returns a list that holds the dialog once it was handled (so a test can check it was)."""
    seen: list = []

    def poll(left=attempts) -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is not None and dialog not in seen:
            seen.append(dialog)
            handler(dialog)
        elif left > 0:
            QTimer.singleShot(20, lambda: poll(left - 1))

    QTimer.singleShot(0, poll)
    return seen


def synthetic_results(n: int, seed: int = 1) -> pl.DataFrame:
    """A results frame with the results.csv columns (model tests; no real person in it)."""
    i = pl.int_range(n, eager=True).alias("i")

    def pick(values: list, salt: int) -> pl.Series:
        return pl.Series(values).gather((i.hash(seed + salt) % len(values)).cast(pl.Int64))

    days = (i.hash(seed + 7) % 18000).cast(pl.Int32)
    return pl.DataFrame({
        "conviction_id": "S" + i.cast(pl.String) + "/C" + (i % 997).cast(pl.String) + "/001001001000",
        "source_file": pl.repeat("extract.dat", n, eager=True),
        "source_line": i + 2,
        "subject_id": "S" + (i // 2).cast(pl.String),
        "cii_number": "A" + i.cast(pl.String).str.zfill(8),
        "name": "PERSON" + (i % 5000).cast(pl.String) + ",TEST",
        "dob": pl.repeat(None, n, dtype=pl.Date, eager=True),
        "gender": pl.repeat("M", n, eager=True),
        "race": pl.repeat("WHITE", n, eager=True),
        "court_case_number": "C" + (i % 997).cast(pl.String),
        "courthouse": pick(["SACRAMENTO SUPERIOR COURT", "SOUTH COURTHOUSE", "NORTH COURTHOUSE"], 1),
        "county": pl.repeat("SACRAMENTO", n, eager=True),
        "conviction_date": days.cast(pl.Date),
        "code_section": pick(["HS 11357(a)", "HS 11357(b)", "HS 11358", "HS 11359", "HS 11360(a)"], 2),
        "level": pick(["F", "M", "I"], 3),
        "outcome": pick(["dismiss", "reduce", "review", "ineligible"], 4),
        "relief": pl.repeat(None, n, dtype=pl.String, eager=True),
        "relief_track": pl.repeat("application", n, eager=True),
        "reasons": pl.repeat("A reason. [HS 11361.8]", n, eager=True),
        "rules": pl.repeat("remedy", n, eager=True),
        "evidence": "extract.dat:" + (i + 2).cast(pl.String),
        "flags": pick(["", "", "after_prop64", "juvenile;age_near_18", "date_unknown"], 5),
    })
