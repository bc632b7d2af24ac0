"""The user guide (docs/user-guide.md) shown inside the app, offline, in a QTextBrowser."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextCursor, QTextImageFormat
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

GUIDE_FILE = "user-guide.md"
MAX_IMAGE_WIDTH = 760


def docs_dir() -> Path:
    """Where the guide and its screenshots are: docs/ of the source tree, or of a frozen build."""
    env = os.environ.get("CLEARREC_DOCS")
    if env:
        return Path(env)
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "docs"
    return Path(__file__).resolve().parents[2] / "docs"


def guide_path() -> Path:
    return docs_dir() / GUIDE_FILE


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it ("Review: decide a case" -> "review-decide-a-case")."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def sections(markdown: str) -> dict[str, str]:
    """{anchor: heading text} of every heading (outside code blocks)."""
    out, fenced = {}, False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"^#{1,6} ", line):
            text = line.lstrip("#").strip()
            out[slug(text)] = text
    return out


def images(markdown: str) -> list[str]:
    """Relative paths of the images the guide shows."""
    return re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", markdown)


class GuideBrowser(QTextBrowser):
    """The guide rendered from Markdown; links to "#anchor" scroll to that heading, and links
    to anything else are not followed (no browser, no network)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setAccessibleName("User guide")
        self.anchorClicked.connect(self._on_link)
        self._anchors: dict[str, int] = {}
        self.load()

    def load(self, path: Path | None = None) -> None:
        path = path or guide_path()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            text = ("# User guide\n\nThe user guide (user-guide.md) is missing from this installation. "
                    "Ask your IT department to reinstall ClearRec Desktop.")
        self.setSearchPaths([str(path.parent)])
        self.document().setBaseUrl(QUrl.fromLocalFile(str(path.parent) + "/"))
        self.setMarkdown(text)
        self._index_headings()
        self._fit_images()

    def _index_headings(self) -> None:
        self._anchors = {}
        block = self.document().begin()
        while block.isValid():
            if block.blockFormat().headingLevel() > 0:
                self._anchors.setdefault(slug(block.text()), block.position())
            block = block.next()

    def _fit_images(self) -> None:
        """Screenshots are 1440 px wide: shown at most MAX_IMAGE_WIDTH wide, in proportion."""
        doc = self.document()
        block = doc.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                frag = it.fragment()
                fmt = frag.charFormat()
                if fmt.isImageFormat():
                    image = fmt.toImageFormat()
                    res = doc.resource(doc.ResourceType.ImageResource.value, QUrl(image.name()))
                    size = getattr(res, "size", lambda: None)()
                    if size is not None and size.width() > MAX_IMAGE_WIDTH:
                        fitted = QTextImageFormat(image)
                        fitted.setWidth(MAX_IMAGE_WIDTH)
                        fitted.setHeight(size.height() * MAX_IMAGE_WIDTH / size.width())
                        cursor = QTextCursor(doc)
                        cursor.setPosition(frag.position())
                        cursor.setPosition(frag.position() + frag.length(), QTextCursor.MoveMode.KeepAnchor)
                        cursor.setCharFormat(fitted)
                it += 1
            block = block.next()

    def anchors(self) -> list[str]:
        return list(self._anchors)

    def show_section(self, anchor: str) -> bool:
        """Scroll so the heading ``anchor`` is at the top; False when the guide has no such heading."""
        position = self._anchors.get(anchor.lstrip("#"))
        if position is None:
            return False
        block = self.document().findBlock(position)
        top = self.document().documentLayout().blockBoundingRect(block).top()
        cursor = QTextCursor(block)
        self.setTextCursor(cursor)
        self.verticalScrollBar().setValue(int(top))
        return True

    def current_section(self) -> str | None:
        """The anchor of the heading at the top of the view (tests and the window title use it)."""
        value = self.verticalScrollBar().value()
        best = None
        layout = self.document().documentLayout()
        for anchor, position in self._anchors.items():
            top = layout.blockBoundingRect(self.document().findBlock(position)).top()
            if top <= value + 2:
                best = anchor
        return best

    def _on_link(self, url: QUrl) -> None:
        if url.hasFragment() and (not url.path() or url.path().endswith(GUIDE_FILE)):
            self.show_section(url.fragment())


class GuideWindow(QDialog):
    """Help > User Guide: a window beside the main one (not modal, so the app stays usable)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("User guide")
        self.setModal(False)
        layout = QVBoxLayout(self)
        self.browser = GuideBrowser()
        layout.addWidget(self.browser)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.resize(860, 720)

    def show_section(self, anchor: str | None) -> None:
        self.show()
        self.raise_()
        self.activateWindow()
        if anchor:
            self.browser.show_section(anchor)
