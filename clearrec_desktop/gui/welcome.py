"""The welcome page shown while no workspace is open: what a first-day clerk can do next."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)


class BigButton(QPushButton):
    """A large button with a title and one sentence of explanation under it."""

    def __init__(self, title: str, sentence: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.title, self.sentence = title, sentence
        self.setObjectName("bigButton")
        self.setAccessibleName(title.replace("&", ""))
        self.setAccessibleDescription(sentence)
        self.setToolTip(sentence)
        self.setText(title)  # keeps the mnemonic; the sentence is a label laid over the button
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 38, 16, 10)
        self.label = QLabel(sentence)
        self.label.setWordWrap(True)
        self.label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout.addWidget(self.label)
        self.setStyleSheet("#bigButton { text-align: left; padding: 10px 16px 40px 16px; font-weight: bold; }")
        self.setMinimumHeight(84)


class WelcomePage(QWidget):
    """New workspace, open workspace, reopen a recent one, or try the demo; a link to the guide."""

    new_requested = Signal()
    open_requested = Signal()
    recent_requested = Signal(str)
    demo_requested = Signal()
    guide_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("welcome")
        outer = QVBoxLayout(self)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        row = QHBoxLayout(body)
        row.addStretch(1)
        column = QVBoxLayout()
        row.addLayout(column, 4)
        row.addStretch(1)
        heading = QLabel("<h1>Welcome to ClearRec Desktop</h1>"
                         "<p>ClearRec screens your county's cannabis convictions for relief under Health and "
                         "Safety Code 11361.8 and 11361.9, lets attorneys review every proposal and builds "
                         "the court filings. Everything stays on this computer.</p>")
        heading.setWordWrap(True)
        column.addWidget(heading)
        self.reopen_button = BigButton("", "")
        self.reopen_button.clicked.connect(lambda: self.recent_requested.emit(self._last or ""))
        column.addWidget(self.reopen_button)
        self.new_button = BigButton(
            "&New workspace", "Start here on your first day: create the encrypted file that will hold your "
                              "county's extract, the screening and every decision.")
        self.new_button.clicked.connect(self.new_requested)
        self.open_button = BigButton(
            "&Open workspace", "Continue work saved in a workspace file (.clearrec); you need its passphrase.")
        self.open_button.clicked.connect(self.open_requested)
        self.demo_button = BigButton(
            "&Try it on the demo extract", "See every step on made-up people in a temporary workspace "
                                           "that is deleted when you close it.")
        self.demo_button.clicked.connect(self.demo_requested)
        for b in (self.new_button, self.open_button, self.demo_button):
            column.addWidget(b)
        self.recent_label = QLabel("<h3>Recent workspaces</h3>")
        column.addWidget(self.recent_label)
        self.recent_box = QVBoxLayout()
        column.addLayout(self.recent_box)
        self.recent_buttons: list[QPushButton] = []
        guide = QLabel("New to ClearRec? <a href='#first-day'>Read the user guide</a> (Help &gt; User Guide, F1): "
                       "what the clerk, the attorney and the staff do, step by step.")
        guide.setWordWrap(True)
        guide.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        guide.setOpenExternalLinks(False)
        guide.linkActivated.connect(lambda link: self.guide_requested.emit(link.lstrip("#")))
        self.guide_label = guide
        column.addSpacing(12)
        column.addWidget(guide)
        column.addStretch(1)
        self._last: str | None = None
        self.set_recent([])

    def set_recent(self, paths: list[str]) -> None:
        """Show the recent workspaces that still exist; the latest gets the big Reopen button."""
        for b in self.recent_buttons:
            self.recent_box.removeWidget(b)
            b.deleteLater()
        self.recent_buttons = []
        existing = [p for p in paths if Path(p).is_file()]
        self._last = existing[0] if existing else None
        if self._last:
            name = Path(self._last).name
            self.reopen_button.setText(f"&Reopen {name.replace('&', '&&')}")
            self.reopen_button.label.setText(f"Continue where you left off: {self._last}")
            self.reopen_button.setAccessibleName(f"Reopen {name}")
        self.reopen_button.setVisible(bool(self._last))
        for path in existing[1:]:
            button = QPushButton(f"{Path(path).name.replace('&', '&&')}   —   {Path(path).parent}")
            button.setAccessibleName(f"Open {Path(path).name}")
            button.setStyleSheet("text-align: left; padding: 6px;")
            button.clicked.connect(lambda _c=False, p=path: self.recent_requested.emit(p))
            self.recent_box.addWidget(button)
            self.recent_buttons.append(button)
        self.recent_label.setVisible(bool(self.recent_buttons))

    def focus_first(self) -> None:
        (self.reopen_button if self._last else self.new_button).setFocus()
