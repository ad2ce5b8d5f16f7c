"""The generation queue's dock: one painted row per job (preview, label, state and a
progress bar drawn by the style, no widget per row) and the buttons that act on it."""

from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QColor, QImage, QPainter, QPalette
from PySide6.QtWidgets import (
    QSizePolicy,
    QAbstractItemView, QApplication, QHBoxLayout, QLabel, QListView, QPushButton, QStyle,
    QStyledItemDelegate, QStyleOptionProgressBar, QStyleOptionViewItem, QVBoxLayout, QWidget,
)

from ..engine.jobs import FINAL, JobState
from .queue import GenerationQueue, QueueEntry

JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 1
STATE_ROLE = Qt.ItemDataRole.UserRole + 2  # the JobState value, a str (Qt gives enums back as str)
STATE_TEXT_ROLE = Qt.ItemDataRole.UserRole + 3
STEP_ROLE = Qt.ItemDataRole.UserRole + 4
TOTAL_ROLE = Qt.ItemDataRole.UserRole + 5
PREVIEW_ROLE = Qt.ItemDataRole.UserRole + 6  # QImage or None
ERROR_ROLE = Qt.ItemDataRole.UserRole + 7

ROW_HEIGHT = 64
THUMB = QSize(96, 54)
MARGIN = 6


def state_text(entry: QueueEntry) -> str:
    if entry.state is JobState.running:
        return f"step {entry.step}/{entry.total}" if entry.total else "starting"
    if entry.state is JobState.failed:
        return f"failed: {entry.error}"
    if entry.state is JobState.finished and entry.error:
        return f"finished, {entry.error}"
    return str(entry.state)


class QueueModel(QAbstractListModel):
    """The queue's entries in display order. A request's jobs arrive as one block of
    rows. Changes are gathered and applied once per turn of the event loop: rows whose
    job changed are repainted, and when a job started, ended or jumped the queue the
    rows are put in the queue's order (selection follows)."""

    def __init__(self, queue: GenerationQueue, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue = queue
        self._ids: list[int] = [entry.job_id for entry in queue.entries()]
        self._rows: dict[int, int] = {job_id: row for row, job_id in enumerate(self._ids)}
        self._changed: set[int] = set()
        self._reorder_due = False
        self._flush_timer = QTimer(self, singleShot=True, interval=0)
        self._flush_timer.timeout.connect(self._flush)
        queue.jobs_added.connect(self._on_jobs_added)
        queue.job_changed.connect(self._on_job_changed)
        queue.jobs_removed.connect(self._on_jobs_removed)
        queue.job_progress.connect(self._on_job_progress)
        queue.job_preview.connect(self._on_job_preview)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._ids)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        entry = self.entry(index)
        if entry is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return entry.label
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{entry.label}\n{state_text(entry)}"
        return {
            JOB_ID_ROLE: entry.job_id,
            STATE_ROLE: str(entry.state),
            STATE_TEXT_ROLE: state_text(entry),
            STEP_ROLE: entry.step,
            TOTAL_ROLE: entry.total,
            PREVIEW_ROLE: entry.preview,
            ERROR_ROLE: entry.error,
        }.get(role)

    def entry(self, index: QModelIndex | QPersistentModelIndex) -> QueueEntry | None:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        return self._queue.entry(self._ids[index.row()])

    def job_ids(self) -> list[int]:
        return list(self._ids)

    def row_of(self, job_id: int) -> int:
        return self._rows.get(job_id, -1)

    def _on_jobs_added(self, job_ids: list[int]) -> None:
        new = [job_id for job_id in job_ids if job_id not in self._rows]
        if new:
            first = len(self._ids)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._ids += new
            self._rows.update((job_id, first + i) for i, job_id in enumerate(new))
            self.endInsertRows()
        self._reorder_due = True
        self._flush_timer.start()

    def _on_job_changed(self, job_id: int) -> None:
        self._changed.add(job_id)
        self._reorder_due = True
        self._flush_timer.start()

    def _on_jobs_removed(self, job_ids: list[int]) -> None:
        rows = sorted((self._rows[job_id] for job_id in job_ids if job_id in self._rows), reverse=True)
        # Ended jobs sit together at the end, so this is one block of rows as a rule;
        # blocks go bottom up, so the rows of those still to go stay where they are.
        start = 0
        while start < len(rows):
            end = start
            while end + 1 < len(rows) and rows[end + 1] == rows[end] - 1:
                end += 1
            self.beginRemoveRows(QModelIndex(), rows[end], rows[start])
            del self._ids[rows[end] : rows[start] + 1]
            self.endRemoveRows()
            start = end + 1
        self._rows = {job_id: row for row, job_id in enumerate(self._ids)}
        self._changed.difference_update(job_ids)

    def _on_job_progress(self, job_id: int, _step: int, _total: int) -> None:
        self._changed.add(job_id)
        self._flush_timer.start()

    def _on_job_preview(self, job_id: int) -> None:
        self._changed.add(job_id)
        self._flush_timer.start()

    def _flush(self) -> None:
        if self._reorder_due:
            self._reorder_due = False
            self._reorder()
        rows = [self._rows[job_id] for job_id in self._changed if job_id in self._rows]
        self._changed.clear()
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)))

    def _reorder(self) -> None:
        """Take the queue's order, keeping persistent indexes (the selection) on their jobs."""
        wanted = [entry.job_id for entry in self._queue.entries() if entry.job_id in self._rows]
        if wanted == self._ids:
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        new_rows = {job_id: row for row, job_id in enumerate(wanted)}
        moved = [self.index(new_rows[self._ids[index.row()]], index.column()) for index in old]
        self._ids, self._rows = wanted, new_rows
        self.changePersistentIndexList(old, moved)
        self.layoutChanged.emit()


class QueueDelegate(QStyledItemDelegate):
    """Paints a row: preview (or a grey box), label, state text, progress bar."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(THUMB.width() + 200, ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        style = option.widget.style() if option.widget is not None else QApplication.style()
        background = QStyleOptionViewItem(option)
        self.initStyleOption(background, index)
        background.text = ""
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, background, painter, option.widget)

        rect = option.rect.adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
        thumb = QRect(rect.left(), rect.top() + (rect.height() - THUMB.height()) // 2, THUMB.width(), THUMB.height())
        painter.save()
        preview = index.data(PREVIEW_ROLE)
        painter.fillRect(thumb, QColor(70, 70, 70))
        if isinstance(preview, QImage) and not preview.isNull():
            scaled = preview.size().scaled(thumb.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, scaled.width(), scaled.height())
            target.moveCenter(thumb.center())
            painter.drawImage(target, preview)

        text = QRect(thumb.right() + MARGIN, rect.top(), rect.right() - thumb.right() - MARGIN, rect.height())
        line = option.fontMetrics.height()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(option.palette.color(role))
        elide = Qt.TextElideMode.ElideRight
        painter.drawText(QRect(text.left(), text.top(), text.width(), line), Qt.AlignmentFlag.AlignLeft,
                         option.fontMetrics.elidedText(index.data() or "", elide, text.width()))
        painter.drawText(QRect(text.left(), text.top() + line, text.width(), line), Qt.AlignmentFlag.AlignLeft,
                         option.fontMetrics.elidedText(index.data(STATE_TEXT_ROLE) or "", elide, text.width()))
        painter.restore()

        bar = QStyleOptionProgressBar()
        bar.rect = QRect(text.left(), text.bottom() - 10, text.width(), 10)
        bar.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
        bar.minimum, bar.maximum = 0, max(1, index.data(TOTAL_ROLE) or 0)
        job_state = index.data(STATE_ROLE)
        bar.progress = bar.maximum if job_state == JobState.finished else min(index.data(STEP_ROLE) or 0, bar.maximum)
        bar.textVisible = False
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)


class QueueView(QWidget):
    """The queue as a list with Cancel, Retry, Send to front, Cancel all and Clear
    finished (buttons and context menu), and a one-line summary."""

    def __init__(self, queue: GenerationQueue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._queue = queue
        self.model = QueueModel(queue, self)
        self.list_view = QListView(self)
        self.list_view.setModel(self.model)
        self.list_view.setItemDelegate(QueueDelegate(self.list_view))
        self.list_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list_view.setUniformItemSizes(True)
        self.list_view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.summary_label = QLabel(self)
        # Its text changes with every job; a width that followed it would re-lay out the window each time.
        self.summary_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        self._cancel = self._action("Cancel", self._on_cancel_requested)
        self._retry = self._action("Retry", self._on_retry_requested)
        self._front = self._action("Send to front", self._on_front_requested)
        self._cancel_all = self._action("Cancel all", self._on_cancel_all_requested)
        self._clear = self._action("Clear finished", self._on_clear_requested)
        self.cancel_button = self._button(self._cancel)
        self.retry_button = self._button(self._retry)
        self.front_button = self._button(self._front)
        self.cancel_all_button = self._button(self._cancel_all)
        self.clear_button = self._button(self._clear)

        buttons = QHBoxLayout()
        for button in (self.cancel_button, self.retry_button, self.front_button, self.cancel_all_button, self.clear_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.list_view, 1)
        layout.addLayout(buttons)

        # Buttons and summary follow at most once per turn of the event loop.
        self._update_timer = QTimer(self, singleShot=True, interval=0)
        self._update_timer.timeout.connect(self._update)
        self.list_view.selectionModel().selectionChanged.connect(self._update_timer.start)
        for signal in (self.model.rowsInserted, self.model.rowsRemoved, self.model.layoutChanged, self.model.dataChanged):
            signal.connect(self._update_timer.start)
        queue.status_changed.connect(self._update_timer.start)
        self._update()

    def selected_job_ids(self) -> list[int]:
        rows = sorted(index.row() for index in self.list_view.selectionModel().selectedRows())
        ids = self.model.job_ids()
        return [ids[row] for row in rows if row < len(ids)]

    def _action(self, text: str, slot) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(slot)
        self.list_view.addAction(action)
        return action

    def _button(self, action: QAction) -> QPushButton:
        button = QPushButton(action.text(), self)
        button.clicked.connect(action.trigger)
        return button

    def _selected_entries(self) -> list[QueueEntry]:
        return [entry for entry in map(self._queue.entry, self.selected_job_ids()) if entry is not None]

    def _update(self) -> None:
        counts, selected = self._queue.counts(), self._selected_entries()
        running, queued = counts[JobState.running], counts[JobState.queued]
        self._cancel.setEnabled(any(not e.ended for e in selected))
        self._retry.setEnabled(any(e.state in (JobState.failed, JobState.cancelled) for e in selected))
        self._front.setEnabled(any(e.state is JobState.queued for e in selected))
        self._cancel_all.setEnabled(running + queued > 0)
        self._clear.setEnabled(any(counts[state] for state in FINAL))
        for action, button in self._buttons():
            button.setEnabled(action.isEnabled())
        parts = [self._queue.status()] if self._queue.status() else []
        if running or queued or not parts:
            parts.append(f"{running} running · {queued} queued" if running or queued else "Idle")
        self.summary_label.setText(" · ".join(parts))

    def _buttons(self) -> list[tuple[QAction, QPushButton]]:
        return [
            (self._cancel, self.cancel_button), (self._retry, self.retry_button), (self._front, self.front_button),
            (self._cancel_all, self.cancel_all_button), (self._clear, self.clear_button),
        ]

    def _on_cancel_requested(self) -> None:
        for job_id in self.selected_job_ids():
            self._queue.cancel(job_id)

    def _on_retry_requested(self) -> None:
        self._queue.retry_many(self.selected_job_ids())

    def _on_front_requested(self) -> None:
        # The last one sent goes first, so send in reverse to keep the selection's order.
        for job_id in reversed(self.selected_job_ids()):
            self._queue.send_to_front(job_id)

    def _on_cancel_all_requested(self) -> None:
        self._queue.cancel_all()

    def _on_clear_requested(self) -> None:
        self._queue.clear_finished()
