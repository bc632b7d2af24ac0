"""The progress strip under long work: a bar, what is happening, and Cancel."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QWidget,
)

from ..workers import Task


class ProgressStrip(QWidget):
    """Progress bar, message and Cancel for the task a view started."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName("Progress")
        self.message = QLabel()
        self.message.setAccessibleName("Progress message")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel the running task")
        layout.addWidget(self.bar, 2)
        layout.addWidget(self.message, 3)
        layout.addWidget(self.cancel_button)
        self._task: Task | None = None
        self.cancel_button.clicked.connect(self._cancel)
        self.hide()

    def follow(self, task: Task) -> None:
        self._task = task
        self.bar.setValue(0)
        self.message.setText(task.title + "…")
        self.cancel_button.setEnabled(True)
        self.show()
        task.progress.connect(self._on_progress)
        task.finished.connect(self._on_finished)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.bar.setValue(int(fraction * 1000))
        if message:
            self.message.setText(message)

    def _on_finished(self) -> None:
        self._task = None
        self.hide()

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.cancel_button.setEnabled(False)
            self.message.setText("Cancelling…")


# -- Import ---------------------------------------------------------------------------------------
