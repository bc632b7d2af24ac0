"""Worker tasks: results, errors and cancel travel by signal; one task at a time."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread

from clearrec_desktop.core.errors import Cancelled, InputError
from clearrec_desktop.gui.workers import Busy, TaskRunner, live_threads


def test_result_and_progress_arrive_on_the_gui_thread(qtbot):
    runner = TaskRunner()
    gui_thread = QThread.currentThread()
    seen = {}

    def work(progress, cancel, x):
        seen["worker_thread"] = threading.current_thread().name
        progress(0.5, "half")
        return x * 2

    task = runner.start("double", work, 21)
    progress = []
    task.progress.connect(lambda f, m: progress.append((f, m, QThread.currentThread() is gui_thread)))
    with qtbot.waitSignal(task.succeeded, timeout=5000) as blocker:
        pass
    assert blocker.args == [42]
    qtbot.waitUntil(lambda: not runner.busy)
    assert progress == [(0.5, "half", True)]
    assert seen["worker_thread"] != threading.main_thread().name
    assert live_threads() == []


def test_input_error_is_a_one_line_message(qtbot):
    runner = TaskRunner()

    def work(progress, cancel):
        raise InputError("extract.dat: line 3: bad")

    task = runner.start("read", work)
    with qtbot.waitSignal(task.failed, timeout=5000) as blocker:
        pass
    assert blocker.args == ["extract.dat: line 3: bad", ""]
    qtbot.waitUntil(lambda: not runner.busy)


def test_unexpected_error_carries_details(qtbot):
    runner = TaskRunner()

    def work(progress, cancel):
        raise ZeroDivisionError("boom")

    task = runner.start("compute", work)
    with qtbot.waitSignal(task.failed, timeout=5000) as blocker:
        pass
    message, details = blocker.args
    assert "compute failed" in message and "ZeroDivisionError" in message
    assert "test_gui_workers.py" in details and "in work" in details
    assert "boom" not in message and "boom" not in details
    qtbot.waitUntil(lambda: not runner.busy)


def test_cancel_is_honoured(qtbot):
    runner = TaskRunner()
    started = threading.Event()

    def work(progress, cancel):
        started.set()
        while not cancel.wait(0.01):
            pass
        raise Cancelled()

    task = runner.start("long", work)
    assert started.wait(5)
    with qtbot.waitSignal(task.cancelled, timeout=5000):
        runner.cancel()
    qtbot.waitUntil(lambda: not runner.busy)


def test_one_task_at_a_time(qtbot):
    runner = TaskRunner()
    release = threading.Event()
    runner.start("first", lambda p, c: release.wait(5))
    with pytest.raises(Busy):
        runner.start("second", lambda p, c: None)
    release.set()
    qtbot.waitUntil(lambda: not runner.busy)
    task = runner.start("second", lambda p, c: "done")
    with qtbot.waitSignal(task.succeeded, timeout=5000):
        pass
    qtbot.waitUntil(lambda: not runner.busy)


def test_shutdown_cancels_and_joins(qtbot):
    runner = TaskRunner()
    started = threading.Event()

    def work(progress, cancel):
        started.set()
        while not cancel.wait(0.01):
            pass
        raise Cancelled()

    runner.start("long", work)
    assert started.wait(5)
    assert runner.shutdown(5000)
    assert not runner.busy
    assert live_threads() == []
