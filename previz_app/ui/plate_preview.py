"""The plate dialog's preview: the source reprojected onto the wall's canvas at a
reduced size, with the tiles outlined and the under-resolution warning. Computed off
the GUI thread a moment after the wall, the source or the low-pass last changed; only
the newest is shown, and an older one stays greyed, its caption saying why, while the
newest is computed or cannot be."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QSize, Qt, QThreadPool
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from ..domain.wall import WallProfile
from ..engine.base import Cancelled
from ..export.plate_preview import PlatePreview, draw_tile_bounds, preview_plate
from .images import qimage_from_rgb
from .latest_task import LatestTask
from .theme import ACCENT
from .workers import TaskControl

UPDATING = "Updating…"
PREVIEW_DELAY_MS = 250  # walls are edited a keystroke at a time
PREVIEW_WIDTH = 1600  # canvas pixels across the preview; the view scales it to fit
MIN_SIZE = QSize(480, 140)
WARNING_STYLE = f"color: {ACCENT.name()};"
Previewer = Callable[..., PlatePreview]  # preview_plate's shape


@dataclass(frozen=True)
class PlateInputs:
    """What a preview shows: the source pixels (by identity), its kind, the wall and
    the low-pass."""

    source: np.ndarray
    kind: str
    wall: WallProfile
    lowpass: float

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, PlateInputs) and self.source is other.source
                and (self.kind, self.wall, self.lowpass) == (other.kind, other.wall, other.lowpass))

    __hash__ = None  # compared by the source's identity, never hashed


class PlatePreviewView(QWidget):
    """The reprojected plate, scaled to fit, and what is wrong with it. Call `show_plate`
    after each change; the picture follows a moment later. `preview` is the newest
    PlatePreview shown and `inputs` what it was made from."""

    def __init__(self, pool: QThreadPool, parent: QWidget | None = None, *, previewer: Previewer = preview_plate) -> None:
        super().__init__(parent)
        self._previewer = previewer
        self.preview: PlatePreview | None = None
        self.image: QImage | None = None
        self.inputs: PlateInputs | None = None  # what `preview` shows
        self.wanted: PlateInputs | None = None  # what the newest show_plate asked for
        self.error = ""
        self._previews = LatestTask(pool, PREVIEW_DELAY_MS, self)
        self.picture_label = QLabel("Choose a source to see the plate")
        self.picture_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture_label.setMinimumSize(MIN_SIZE)
        self.picture_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.picture_label.setStyleSheet("background: #1e1e1e; color: #a0a0a0;")
        self.caption_label = QLabel()  # the preview's scale and tiles, or why it is greyed
        self.caption_label.setWordWrap(True)
        self.warning_label = QLabel()
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet(WARNING_STYLE)
        self.warning_label.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.picture_label, 1)
        layout.addWidget(self.caption_label)
        layout.addWidget(self.warning_label)

    def show_plate(self, source: np.ndarray | None, kind: str, wall: WallProfile | None, lowpass: float = 0.0,
                   unusable: str = "") -> None:
        """Preview `source` on `wall`. With no source, no wall (it has an error) or a
        reason the source is `unusable` for this wall, the newest preview stays, greyed
        and captioned with why, as it no longer shows what would be exported; so it
        does while the new one is computed ("Updating…")."""
        if source is None or wall is None or unusable:
            self.wanted = None
            self._previews.discard()
            why = unusable or ("Choose a source to see the plate" if source is None
                               else "No preview until the wall is corrected")
            self._grey(why)
            return
        wanted = PlateInputs(source, kind, wall, lowpass)
        if wanted == self.wanted:
            return
        self.wanted = wanted
        if wanted == self.inputs:  # back to what is shown (an edit typed and taken back)
            self._previews.discard()
            self.picture_label.setEnabled(True)
            self._show_caption()
            return
        previewer = self._previewer

        def work(control: TaskControl) -> tuple[PlatePreview, QImage]:
            preview = previewer(source, kind, wall, PREVIEW_WIDTH, lowpass)
            if control.cancelled:
                raise Cancelled()  # a newer preview is wanted, or the dialog went: skip the drawing
            return preview, qimage_from_rgb(draw_tile_bounds(preview))

        self._grey(UPDATING)
        self._previews.submit(work, lambda result: self._on_ready(wanted, result), lambda exc: self._on_failed(wanted, exc))

    def is_ready(self) -> bool:
        """Whether the preview shows what was last asked for (nothing left to compute)."""
        return self.wanted is not None and self.inputs == self.wanted and not self._previews.is_busy()

    def _grey(self, why: str) -> None:
        """Show the newest preview greyed, as no longer current, captioned with `why`."""
        self.picture_label.setEnabled(False)
        self.caption_label.setText(why)
        if self.image is None:
            self.picture_label.setText(why)

    def _show_caption(self) -> None:
        if self.preview is None:
            return
        tiles = len(self.preview.tiles)
        self.caption_label.setText(f"Preview at {self.preview.scale:.0%} of the canvas · "
                                   f"{tiles} tile{'' if tiles == 1 else 's'} outlined")

    def _on_ready(self, inputs: PlateInputs, result: tuple[PlatePreview, QImage]) -> None:
        self.preview, self.image = result
        self.inputs, self.error = inputs, ""
        current = inputs == self.wanted
        self.picture_label.setEnabled(current)
        if current:
            self._show_caption()
        warning = self.preview.warning
        self.warning_label.setText(f"Under-resolution: {warning}" if warning else "")
        self.warning_label.setVisible(bool(warning))
        self._show_image()

    def _on_failed(self, inputs: PlateInputs, exc: BaseException) -> None:
        self.preview = self.image = None
        self.inputs, self.error = inputs, str(exc) or type(exc).__name__
        self.picture_label.setPixmap(QPixmap())
        self.picture_label.setText(f"No preview: {self.error}")
        self.picture_label.setEnabled(inputs == self.wanted)
        self.caption_label.setText("")
        self.warning_label.hide()

    def _show_image(self) -> None:
        if self.image is None:
            return
        ratio = self.picture_label.devicePixelRatioF()
        pixmap = QPixmap.fromImage(self.image.scaled(
            self.picture_label.size() * ratio, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        pixmap.setDevicePixelRatio(ratio)
        self.picture_label.setPixmap(pixmap)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._show_image()

    def pause(self) -> None:
        """Compute nothing until `resume` (the dialog is hidden): what is being computed
        is dropped, and what `show_plate` asks for meanwhile waits."""
        self._previews.pause()
        self._previews.discard()
        self.wanted = None

    def resume(self) -> None:
        self._previews.resume()

    def stop(self, timeout_ms: int = 0) -> bool:
        """Compute no more previews and wait up to `timeout_ms` for one running (the
        project is closing). True when none is left running."""
        return self._previews.stop(timeout_ms)
