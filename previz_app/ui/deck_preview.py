"""The pitch deck editor's live preview: the current section's pages as the PDF export
draws them. The PDF is built and its pages rendered off the GUI thread, a moment after
the last edit; only the newest result is shown."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt, QThreadPool
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from ..domain.deck import SECTIONS, Deck, empty_sections
from ..engine.base import Cancelled
from ..export.deck import deck_pdf_bytes
from ..store import ProjectFolder
from .latest_task import LatestTask
from .workers import TaskControl

DEBOUNCE_MS = 300
RENDER_WIDTH = 1280  # pixels across a rendered page; the view scales it to fit
PdfBuilder = Callable[..., bytes]  # deck_pdf_bytes' shape


def render_pdf_pages(data: bytes, width: int = RENDER_WIDTH) -> list[QImage]:
    """Every page of the PDF `data` as an image `width` pixels wide on white. Runs on
    any thread. Raises ValueError when the bytes are not a PDF QtPdf can read."""
    document = QPdfDocument()
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    try:
        document.load(buffer)
        if document.status() != QPdfDocument.Status.Ready:
            raise ValueError(f"the preview PDF could not be read ({document.error().name})")
        pages = []
        for page in range(document.pageCount()):
            points = document.pagePointSize(page)
            height = max(1, round(width * points.height() / max(points.width(), 1.0)))
            rendered = document.render(page, QSize(width, height))
            # QtPdf leaves the paper transparent; a deck page is printed on white.
            image = QImage(rendered.size(), QImage.Format.Format_RGB32)
            image.fill(QColor("white"))
            painter = QPainter(image)
            painter.drawImage(0, 0, rendered)
            painter.end()
            pages.append(image)
        return pages
    finally:
        document.close()
        buffer.close()


class DeckPreviewView(QWidget):
    """The pages of one section of a deck, scaled to fit, with page navigation. Call
    `show_section(deck, key)` after each edit; the pages follow about 300 ms later."""

    def __init__(self, folder: ProjectFolder, pool: QThreadPool | None = None, parent: QWidget | None = None,
                 *, build: PdfBuilder | None = None) -> None:
        super().__init__(parent)
        self.folder, self._build = folder, build
        self._pages: list[QImage] = []
        self._page = 0
        self._message = ""
        self._builds = LatestTask(pool or QThreadPool.globalInstance(), DEBOUNCE_MS, self)

        self.page_label = QLabel()
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.page_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.page_label.setMinimumSize(240, 135)
        self.page_label.setWordWrap(True)
        self.page_label.setStyleSheet("background: #1c1c1e; color: #bbbbbb; padding: 8px;")
        self.status_label = QLabel()
        self.status_label.setStyleSheet("color: #969696;")
        self.previous_button = QPushButton("◀")
        self.next_button = QPushButton("▶")
        for button in (self.previous_button, self.next_button):
            button.setFixedWidth(36)
        self.page_count_label = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(self.status_label, 1)
        bar.addWidget(self.previous_button)
        bar.addWidget(self.page_count_label)
        bar.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.page_label, 1)
        layout.addLayout(bar)

        self._builds.finished.connect(self._update_bar)
        self.previous_button.clicked.connect(lambda: self.show_page(self._page - 1))
        self.next_button.clicked.connect(lambda: self.show_page(self._page + 1))
        self._update_bar()

    # -- what to show ------------------------------------------------------------------

    def show_section(self, deck: Deck, section: str) -> None:
        """Preview `section` (a SECTIONS key) of `deck` after a short pause; a newer
        call within the pause replaces this one. After `stop`, it waits for `resume`."""
        if section in empty_sections(deck):
            # Nothing to build: the deck leaves an empty section out.
            self._builds.discard()
            self._show_result([], f"{SECTIONS[section]} is empty, so the deck leaves it out.\n"
                                  "Fill it in to give it a page.")
            return
        folder, build, width = self.folder, self._build or deck_pdf_bytes, RENDER_WIDTH

        def work(control: TaskControl) -> list[QImage]:
            db = folder.connect()
            try:
                data = build(db, folder.media, deck=deck, sections=[section])
            finally:
                db.close()
            if control.cancelled:
                raise Cancelled()
            return render_pdf_pages(data, width)

        self.status_label.setText("Updating…")
        self._builds.submit(work, lambda pages: self._show_result(pages, ""),
                            lambda exc: self._show_result([], _failure(exc)))

    def pages(self) -> list[QImage]:
        """The rendered pages shown (empty while there are none, or on an error)."""
        return list(self._pages)

    def current_page(self) -> int:
        return self._page

    def message(self) -> str:
        """What the preview says instead of a page (an empty section, an error), or ""."""
        return self._message

    def is_busy(self) -> bool:
        return self._builds.is_busy()

    def show_page(self, page: int) -> None:
        if 0 <= page < len(self._pages):
            self._page = page
            self._show_pixmap()
            self._update_bar()

    def stop(self, timeout_ms: int = 0) -> bool:
        """Show nothing more (the dialog is closing): a build waiting is dropped and one
        running is cancelled; wait up to `timeout_ms` for it to end (the project is
        closing). True when no build is left running."""
        return self._builds.stop(timeout_ms)

    def resume(self) -> None:
        """Show pages again after `stop` (the dialog is shown again)."""
        self._builds.resume()

    def _show_result(self, pages: list[QImage], message: str) -> None:
        self._pages = pages
        self._page = min(self._page, len(pages) - 1) if pages else 0
        self._message = message or ("" if pages else "This section has no pages.")
        self._show_pixmap()
        self._update_bar()

    # -- painting ----------------------------------------------------------------------

    def _show_pixmap(self) -> None:
        if not self._pages:
            self.page_label.setPixmap(QPixmap())
            self.page_label.setText(self._message)
            return
        ratio = self.devicePixelRatioF()
        size = self.page_label.contentsRect().size() * ratio
        image = self._pages[self._page]
        if size.width() > 0 and size.height() > 0:
            image = image.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(ratio)
        self.page_label.setPixmap(pixmap)

    def _update_bar(self) -> None:
        count = len(self._pages)
        self.page_count_label.setText(f"Page {self._page + 1} of {count}" if count else "")
        for button in (self.previous_button, self.next_button):
            button.setVisible(count > 1)
        self.previous_button.setEnabled(self._page > 0)
        self.next_button.setEnabled(self._page < count - 1)
        if not self.is_busy():
            self.status_label.setText("As the PDF prints it" if count else "")

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._show_pixmap()


def _failure(exc: BaseException) -> str:
    if isinstance(exc, (ValueError, OSError)):
        return f"The page cannot be drawn:\n{exc}"
    return f"The page cannot be drawn ({type(exc).__name__}):\n{exc}"
