"""Policy: the active profile's rules in plain words, the code-section lists, a what-if comparison."""

from __future__ import annotations

import re

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import InputError
from ...core.screen import profiles
from ..dialogs import ErrorDialog
from ..models import (
    Column,
    FrameModel,
)
from ..session import Session
from ..widgets.common import configure_table, esc, task_failed
from ..widgets.progress import ProgressStrip
from ..workers import Task

_NUMBERED = re.compile(r"^\s*\d+\.\s")


def profile_html(profile: profiles.Profile) -> str:
    """The profile's own plain-English explanation (``Profile.explain``) laid out for reading:
    the title in bold, wrapped text joined into paragraphs, rule ids in bold."""
    lines = profile.explain().splitlines()
    blocks: list[list[str]] = [[]]
    for line in lines[1:]:
        if not line.strip():
            blocks.append([])
        elif _NUMBERED.match(line) or line.startswith("     "):  # a rule, guard or list starts a block
            blocks.append([line.strip()])
        else:
            blocks[-1].append(line.strip())
    blocks = [" ".join(b) for b in blocks if b]
    out = [f"<h3>{esc(lines[0]) if lines else ''}</h3>"]
    for block in blocks:
        text = re.sub(r"^(\d+\.\s*)?(\[[^\]]+\])", r"\1<b>\2</b>", esc(block))
        indent = 18 if _NUMBERED.match(block) or block.startswith("[") else 0
        out.append(f"<p style='margin:3px 0 3px {indent}px'>{text}</p>")
    return "".join(out)


class PolicyView(QWidget):
    """The active profile in plain English; re-screen with another profile or date; what-if."""

    title = "Policy"

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._profiles: list[profiles.Profile] = []
        layout = QVBoxLayout(self)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        row = QHBoxLayout()
        self.profile = QComboBox()
        self.profile.setAccessibleName("Profile to screen with")
        self.profile.currentIndexChanged.connect(self._show_selected)
        lab = QLabel("P&rofile:")
        lab.setBuddy(self.profile)
        self.as_of = QDateEdit()
        self.as_of.setCalendarPopup(True)
        self.as_of.setDisplayFormat("yyyy-MM-dd")
        self.as_of.setAccessibleName("Evaluation date for screening again")
        lab2 = QLabel("&Evaluation date:")
        lab2.setBuddy(self.as_of)
        self.rescreen_button = QPushButton("&Screen again")
        self.rescreen_button.setAccessibleName("Screen again with this profile and date")
        self.rescreen_button.clicked.connect(self.rescreen)
        for w in (lab, self.profile, lab2, self.as_of, self.rescreen_button):
            row.addWidget(w)
        row.addStretch(1)
        layout.addLayout(row)
        self.progress = ProgressStrip()
        layout.addWidget(self.progress)
        self.rules = QTextBrowser()
        self.rules.setOpenLinks(False)
        self.rules.setAccessibleName("Profile rules in plain English")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.rules)

        # The code-section lists the profile screens with: every entry with its citation.
        lists_box = QGroupBox("Code-section lists (super strikes, PC 290, related charges)")
        ll = QVBoxLayout(lists_box)
        lrow = QHBoxLayout()
        self.list_choice = QComboBox()
        self.list_choice.setAccessibleName("Code-section list to show")
        self.list_choice.currentIndexChanged.connect(self._show_list)
        llab = QLabel("&List:")
        llab.setBuddy(self.list_choice)
        self.list_source = QLabel()
        self.list_source.setWordWrap(True)
        self.list_source.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.list_source.setAccessibleName("Where the list is read from")
        lrow.addWidget(llab)
        lrow.addWidget(self.list_choice)
        lrow.addWidget(self.list_source, 1)
        ll.addLayout(lrow)
        self.list_model = FrameModel([Column("code_section", "Section", 120), Column("description", "Offense", 360),
                                      Column("citation", "Why it is listed", 260), Column("conditions", "Conditions", 240)],
                                     self)
        self.list_table = QTableView()
        configure_table(self.list_table, self.list_model, "Entries of the code-section list", sortable=True)
        ll.addWidget(self.list_table, 1)
        self._lists: dict = {}
        split.addWidget(lists_box)

        whatif = QGroupBox("What if: compare two profiles on the same records")
        wl = QVBoxLayout(whatif)
        wrow = QHBoxLayout()
        self.profile_a = QComboBox()
        self.profile_a.setAccessibleName("First profile to compare")
        self.profile_b = QComboBox()
        self.profile_b.setAccessibleName("Second profile to compare")
        self.compare_button = QPushButton("Co&mpare")
        self.compare_button.setAccessibleName("Compare the two profiles")
        self.compare_button.clicked.connect(self.compare)
        la, lb = QLabel("&A:"), QLabel("&B:")
        la.setBuddy(self.profile_a)
        lb.setBuddy(self.profile_b)
        for w in (la, self.profile_a, lb, self.profile_b, self.compare_button):
            wrow.addWidget(w)
        wrow.addStretch(1)
        wl.addLayout(wrow)
        self.compare_summary = QLabel("Choose two profiles and Compare.")
        self.compare_summary.setWordWrap(True)
        self.compare_summary.setAccessibleName("Comparison result")
        wl.addWidget(self.compare_summary)
        self.moves_model = FrameModel([Column("outcome_a", "Outcome under A", 140),
                                       Column("outcome_b", "Outcome under B", 140),
                                       Column("count", "Convictions", 90)], self)
        self.moves_table = QTableView()
        configure_table(self.moves_table, self.moves_model, "Outcome changes between the profiles")
        self.changed_model = FrameModel([Column("name", "Name", 170), Column("court_case_number", "Case", 100),
                                         Column("conviction_date", "Convicted", 90),
                                         Column("code_section", "Section", 95), Column("level", "Level", 45),
                                         Column("outcome_a", "Under A", 90), Column("outcome_b", "Under B", 90)],
                                        self)
        self.changed_table = QTableView()
        configure_table(self.changed_table, self.changed_model, "Convictions whose outcome changes",
                        sortable=True)
        tables = QHBoxLayout()
        tables.addWidget(self.moves_table, 1)
        tables.addWidget(self.changed_table, 2)
        wl.addLayout(tables)
        split.addWidget(whatif)
        layout.addWidget(split, 1)

        session.run_changed.connect(self.refresh)
        session.workspace_changed.connect(self.refresh)
        session.runner.busy_changed.connect(lambda _b: self._update_enabled())
        self.reload_profiles()
        self.refresh()

    def reload_profiles(self) -> None:
        self._profiles = profiles.list_profiles()
        for combo in (self.profile, self.profile_a, self.profile_b):
            combo.blockSignals(True)
            combo.clear()
            for p in self._profiles:
                combo.addItem(f"{p.title} ({p.id})", p.id)
            combo.blockSignals(False)
        if len(self._profiles) > 1:
            self.profile_b.setCurrentIndex(1)

    def _profile(self, combo: QComboBox) -> profiles.Profile | None:
        return next((p for p in self._profiles if p.id == combo.currentData()), None)

    def _update_enabled(self) -> None:
        ready = self.session.run is not None and not self.session.runner.busy
        for w in (self.rescreen_button, self.compare_button):
            w.setEnabled(ready)

    def refresh(self) -> None:
        run = self.session.run
        if run is None:
            self.heading.setText("<h2>Policy</h2><p>No screening run yet. The rules below are the profile "
                                 "chosen here; import an extract to screen with it.</p>")
        else:
            self.heading.setText(f"<h2>Policy</h2><p>The current run used <b>{esc(run.profile_title)}</b> "
                                 f"({esc(run.profile_id)}) as of <b>{run.as_of.isoformat()}</b>. Choose another "
                                 "profile or date and Screen again; decisions are kept.</p>")
            i = self.profile.findData(run.profile_id)
            if i >= 0:
                self.profile.setCurrentIndex(i)
            self.profile_a.setCurrentIndex(max(0, self.profile_a.findData(run.profile_id)))
            self.as_of.setDate(QDate(run.as_of.year, run.as_of.month, run.as_of.day))
        self._show_selected()
        self._update_enabled()

    def _show_selected(self) -> None:
        run = self.session.run
        profile = self._profile(self.profile)
        if run is not None and (profile is None or profile.id == run.profile_id):
            from ..session import profile_from_text

            profile = profile_from_text(run.profile_id, run.profile_text)
        self.rules.setHtml(profile_html(profile) if profile is not None else "<p>No profiles found.</p>")
        try:
            self._lists = profile.lists() if profile is not None else {}
        except InputError as exc:   # a list the profile names is missing or damaged
            self._lists = {}
            self.list_source.setText(esc(str(exc)))
        current = self.list_choice.currentData()
        self.list_choice.blockSignals(True)
        self.list_choice.clear()
        for name, lst in self._lists.items():
            self.list_choice.addItem(f"{profiles.LIST_TITLES.get(name, name)} ({len(lst)})", name)
        self.list_choice.blockSignals(False)
        i = self.list_choice.findData(current)
        self.list_choice.setCurrentIndex(i if i >= 0 else 0)
        self._show_list()

    def _show_list(self) -> None:
        lst = self._lists.get(self.list_choice.currentData())
        self.list_model.set_frame(lst.frame if lst is not None else None)
        if lst is not None:
            self.list_source.setText(f"{len(lst)} entries, read from {esc(lst.path)}")

    def rescreen(self) -> Task | None:
        profile = self._profile(self.profile)
        if profile is None:
            return None
        try:
            task = self.session.rescreen(self.as_of.date().toPython(), profile)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return None
        task.failed.connect(lambda m, d: task_failed(self, m, d))
        self.progress.follow(task)
        return task

    def compare(self) -> Task | None:
        a, b = self._profile(self.profile_a), self._profile(self.profile_b)
        if a is None or b is None:
            return None
        try:
            task = self.session.what_if(a, b)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return None
        task.succeeded.connect(self.show_comparison)
        task.failed.connect(lambda m, d: task_failed(self, m, d))
        self.progress.follow(task)
        return task

    def show_comparison(self, result: dict) -> None:
        changed = result["changed"]
        total = result["total"]
        self.compare_summary.setText(
            f"<b>{changed.height:,}</b> of {total:,} convictions get a different outcome under "
            f"<b>{esc(result['b'].title)}</b> than under <b>{esc(result['a'].title)}</b>.")
        self.moves_model.set_frame(result["moves"])
        self.changed_model.set_frame(changed)


# -- Activity ---------------------------------------------------------------------------------------
