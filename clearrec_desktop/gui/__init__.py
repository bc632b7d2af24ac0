"""PySide6 front end: thin views and models over the core's polars frames."""

import sys


def _guard_singleton_refcounts() -> None:
    """Work around a reference leak of PySide6 6.12 on Python 3.11.

    Measured here: every call from Python to a void Qt method (``label.setText(...)``,
    ``processEvents()``) returns ``None`` without taking a reference to it, and
    ``Signal.emit`` does the same with ``True``. On Python 3.12+ those objects are immortal and
    the leak is harmless; on 3.11 their reference counts fall by one per call until the
    interpreter aborts ("deallocating None") after a few thousand calls, i.e. within minutes of
    use. They are static objects that are never freed, so raising their counts far above
    anything the leak can consume is safe. tests/gui/test_refcount_guard.py proves both the
    leak and the guard.
    """
    if sys.version_info >= (3, 12):
        return
    import ctypes

    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 48


_guard_singleton_refcounts()
