"""Long work (import, screening, re-screening, comparisons) off the GUI thread.

A ``Task`` runs one function on its own ``QThread``. The function gets a ``progress(fraction,
message)`` callback and a ``threading.Event`` it must poll to honour Cancel; it never touches a
widget. Results, errors and progress travel back through queued signals, so the GUI thread only
swaps in what the task produced. ``TaskRunner`` runs one task at a time: the workspace has a
single writer, and the window disables what would start a second one.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from ..core.errors import Cancelled, InputError, safe_details

# Every thread started here, so tests (and shutdown) can check none is left running.
_THREADS: "set[QThread]" = set()


def live_threads() -> list[QThread]:
    return [t for t in list(_THREADS) if t.isRunning()]


class Busy(RuntimeError):
    """A task is already running."""


class _Worker(QObject):
    """Runs the function on the worker thread; its signals are relayed by the ``Task``."""

    progress = Signal(float, str)
    succeeded = Signal(object)
    failed = Signal(str, str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, title: str, fn: Callable[..., Any], args: tuple, kwargs: dict,
                 cancel_event: threading.Event):
        super().__init__()
        self._title = title
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self._cancel = cancel_event

    def _report(self, fraction: float, message: str = "") -> None:
        self.progress.emit(max(0.0, min(1.0, float(fraction))), str(message))

    @Slot()
    def run(self) -> None:
        try:
            if self._cancel.is_set():
                raise Cancelled("cancelled before it started")
            result = self._fn(self._report, self._cancel, *self._args, **self._kwargs)
        except Cancelled:
            self.cancelled.emit()
        except InputError as exc:
            self.failed.emit(str(exc), "")
        except Exception as exc:  # shown in the error dialog, never swallowed
            # an unexpected error's message can quote record data: only its type and where
            self.failed.emit(f"{self._title} failed ({type(exc).__name__}); the details show where.", safe_details(exc))
        else:
            self.succeeded.emit(result)
        finally:
            self.finished.emit()


class Task(QObject):
    """One function run on a worker thread. Exactly one of succeeded / failed / cancelled is
    emitted, then finished, always on the GUI thread: the task itself stays there and relays
    its worker's queued signals, so any slot or lambda connected here may touch widgets."""

    progress = Signal(float, str)
    succeeded = Signal(object)
    failed = Signal(str, str)  # one-line message, details (a traceback for unexpected errors)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, title: str, fn: Callable[..., Any], *args: Any, **kwargs: Any):
        super().__init__()
        self.title = title
        self.cancel_event = threading.Event()
        self.worker = _Worker(title, fn, args, kwargs, self.cancel_event)
        # Bound slots of this GUI-thread object: Qt queues the worker's emissions to them.
        self.worker.progress.connect(self._on_progress)
        self.worker.succeeded.connect(self._on_succeeded)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(self._on_cancelled)
        self.worker.finished.connect(self._on_finished)

    @Slot(float, str)
    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.emit(fraction, message)

    @Slot(object)
    def _on_succeeded(self, result: object) -> None:
        self.succeeded.emit(result)

    @Slot(str, str)
    def _on_failed(self, message: str, details: str) -> None:
        self.failed.emit(message, details)

    @Slot()
    def _on_cancelled(self) -> None:
        self.cancelled.emit()

    @Slot()
    def _on_finished(self) -> None:
        self.finished.emit()

    def cancel(self) -> None:
        self.cancel_event.set()


class TaskRunner(QObject):
    """Starts tasks on worker threads, one at a time."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._task: Task | None = None
        self._thread: QThread | None = None

    @property
    def busy(self) -> bool:
        return self._task is not None

    @property
    def current(self) -> Task | None:
        return self._task

    def start(self, title: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Task:
        """Run ``fn(progress, cancel, *args, **kwargs)`` on a worker thread.

        Connect to the returned task's signals before control returns to the event loop; they
        are delivered through it."""
        if self._task is not None:
            raise Busy(f"{self._task.title} is still running")
        task = Task(title, fn, *args, **kwargs)
        thread = QThread()
        thread.setObjectName(f"clearrec-task: {title}")
        task.worker.moveToThread(thread)
        thread.started.connect(task.worker.run)
        # quit() is thread-safe; a direct call lets shutdown() wait without running the event loop
        task.worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._on_thread_finished)
        self._task, self._thread = task, thread
        _THREADS.add(thread)
        self.busy_changed.emit(True)
        thread.start()
        return task

    @Slot()
    def _on_thread_finished(self) -> None:
        thread = self._thread
        if thread is None:  # already cleaned up by shutdown()
            return
        self._task, self._thread = None, None
        thread.wait()
        _THREADS.discard(thread)
        thread.deleteLater()
        self.busy_changed.emit(False)

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel the running task and wait for its thread (on closing the window)."""
        thread = self._thread
        if thread is None:
            return True
        self.cancel()
        done = thread.wait(timeout_ms)
        if done:
            self._on_thread_finished()
        return done
