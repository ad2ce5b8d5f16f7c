"""Where a plate's picture comes from: a take of the project, a picture file, or an
environment an engine paints for the wall from a scene (the Generate page,
plate_generate.py). Pictures are read off the GUI thread, the newest choice winning."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QThreadPool, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..domain.wall import WallProfile
from ..export.plate import read_source
from .deck_images import CatalogState
from .export_dialog import ERROR_STYLE
from .latest_task import LatestTask
from .plate_generate import PlateGenerateWidget
from .services import Services
from .state import ProjectState

MODES = (("Take", "take"), ("File", "file"), ("Generate", "generate"))
KINDS = (("Wide (spans the wall)", "wide"), ("360° equirectangular", "equirect"))
PICTURE_FILTER = "Pictures (*.png *.jpg *.jpeg *.tif *.tiff)"


@dataclass(frozen=True)
class PlateSourcePicture:
    """A source ready to use: `pixels` (uint8, height × width × 3) for the preview, and
    `export`, what the plate export reads (the file, or the generated pixels)."""

    pixels: np.ndarray
    export: Path | np.ndarray
    label: str

    @property
    def generated(self) -> bool:
        return isinstance(self.export, np.ndarray)


def read_pixels(path: Path) -> np.ndarray:
    """The picture at `path` as uint8 RGB (16-bit pictures rounded), for the preview.
    Raises ValueError as `read_source`."""
    pixels = read_source(path)
    pixels *= 255
    pixels += 0.5
    return pixels.astype(np.uint8)


class PlateSourceWidget(QWidget):
    """The source chooser. `picture()` is the chosen source once it is read (None
    before), `kind()` its projection; `source_changed` follows either changing.
    `wall()` gives the wall an environment is generated for (None while it has errors)."""

    source_changed = Signal()

    def __init__(self, state: ProjectState, services: Services, pool: QThreadPool,
                 wall: Callable[[], WallProfile | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._pictures: dict[str, PlateSourcePicture] = {}  # the newest read or made, by mode
        self._wanted: dict[str, object] = {}  # what each mode was asked to read (a take id, a path)
        self._reads = LatestTask(pool, 0, self)
        self.catalog = CatalogState(state, pool, self)
        self.generator = PlateGenerateWidget(state, services, pool, wall)

        self.mode_buttons = QButtonGroup(self)
        self.stack = QStackedWidget()
        self.take_combo = QComboBox()
        self.take_combo.setMinimumContentsLength(20)
        self.file_edit = QLineEdit()
        self.file_edit.setPlaceholderText("A panorama or wide picture: PNG, JPEG or TIFF")
        self.file_button = QPushButton("File…")
        self.kind_combo = QComboBox()
        for text, data in KINDS:
            self.kind_combo.addItem(text, data)
        self.info_label = QLabel("No source yet")
        self.info_label.setWordWrap(True)
        self._lay_out()

        self.mode_buttons.idToggled.connect(self._on_mode_toggled)
        self.take_combo.activated.connect(lambda _index: self._read_take())
        self.file_button.clicked.connect(self._on_file_clicked)
        self.file_edit.editingFinished.connect(lambda: self.load_file(Path(self.file_edit.text().strip())))
        self.generator.generated.connect(
            lambda pixels, label: self._set_picture("generate", PlateSourcePicture(pixels, pixels, label)))
        self.generator.message.connect(self._say)
        self.kind_combo.currentIndexChanged.connect(lambda _index: self.source_changed.emit())
        self.catalog.catalog_changed.connect(self._on_catalog_changed)
        self.catalog.reload()
        self.set_mode("take")

    def _lay_out(self) -> None:
        modes = QHBoxLayout()
        for number, (text, _mode) in enumerate(MODES):
            button = QRadioButton(text)
            self.mode_buttons.addButton(button, number)
            modes.addWidget(button)
        modes.addStretch(1)
        take = QFormLayout(page := QWidget())
        take.addRow("Take", self.take_combo)
        self.stack.addWidget(page)
        file_row = QHBoxLayout(page := QWidget())
        file_row.addWidget(self.file_edit, 1)
        file_row.addWidget(self.file_button)
        self.stack.addWidget(page)
        self.stack.addWidget(self.generator)
        take.setContentsMargins(0, 0, 0, 0)
        file_row.setContentsMargins(0, 0, 0, 0)
        kind = QFormLayout()
        kind.addRow("Projection", self.kind_combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(modes)
        layout.addWidget(self.stack)
        layout.addLayout(kind)
        layout.addWidget(self.info_label)
        layout.addStretch(1)

    # -- what is chosen ----------------------------------------------------------------

    def mode(self) -> str:
        return MODES[max(0, self.mode_buttons.checkedId())][1]

    def set_mode(self, mode: str) -> None:
        self.mode_buttons.button([key for _text, key in MODES].index(mode)).setChecked(True)

    def kind(self) -> str:
        """The chosen source's projection: a generated environment is always `wide`."""
        return "wide" if self.mode() == "generate" else self.kind_combo.currentData()

    def picture(self) -> PlateSourcePicture | None:
        """The chosen source, once read (or generated); None before."""
        return self._pictures.get(self.mode())

    def is_busy(self) -> bool:
        """Whether a picture is being read or an environment generated."""
        return self._reads.is_busy() or self.generator.is_generating()

    def _on_mode_toggled(self, number: int, checked: bool) -> None:
        if not checked:
            return
        self.stack.setCurrentIndex(number)
        self.kind_combo.setEnabled(self.mode() != "generate")
        if self.mode() == "take" and "take" not in self._wanted:
            self._read_take()
        self._show_info()
        self.source_changed.emit()

    # -- takes and files ---------------------------------------------------------------

    def _on_catalog_changed(self) -> None:
        chosen = self.take_combo.currentData()
        self.take_combo.clear()
        for tile in self.catalog.catalog.takes:
            self.take_combo.addItem(f"Shot {tile.label}{'  (hero)' if tile.hero else ''}", tile.id)
        if not self.take_combo.count():
            self.take_combo.addItem("No takes in the project yet", None)
        self.take_combo.setCurrentIndex(max(0, self.take_combo.findData(chosen)))
        if self.mode() == "take" and self._wanted.get("take") != self.take_combo.currentData():
            self._read_take()

    def choose_take(self, take_id: int) -> None:
        """Use the take `take_id` (one the catalog lists) as the source."""
        self.take_combo.setCurrentIndex(self.take_combo.findData(take_id))
        self._read_take()

    def _read_take(self) -> None:
        tile = self.catalog.tile(self.take_combo.currentData())
        if tile is None or tile.media_hash is None:
            return
        path = self.state.folder.media.path(tile.media_hash)
        self._read("take", tile.id, path, f"take {tile.id} of shot {tile.label.split(' ·')[0]}")

    def load_file(self, path: Path) -> None:
        """Use the picture file `path` as the source (read off the GUI thread)."""
        if not str(path) or str(path) == ".":
            return
        self.file_edit.setText(str(path))
        self._read("file", Path(path), Path(path), Path(path).name)

    def _on_file_clicked(self) -> None:
        start = self.file_edit.text().strip() or str(self.state.folder.exports_dir.parent)
        chosen, _ = QFileDialog.getOpenFileName(self, "Choose the plate's source picture", start, PICTURE_FILTER)
        if chosen:
            self.load_file(Path(chosen))

    def _read(self, mode: str, key: object, path: Path, label: str) -> None:
        if self._wanted.get(mode) == key and mode in self._pictures:
            return
        self._wanted[mode] = key
        self._pictures.pop(mode, None)
        self._say(f"Reading {label}…")
        self.source_changed.emit()  # nothing to preview until it is read
        self._reads.submit(lambda _control: read_pixels(path),
                           lambda pixels: self._on_read(mode, key, PlateSourcePicture(pixels, path, label)),
                           lambda exc: self._on_read_failed(mode, key, exc))

    def _on_read(self, mode: str, key: object, picture: PlateSourcePicture) -> None:
        if self._wanted.get(mode) != key:
            return
        height, width = picture.pixels.shape[:2]
        if abs(width / height - 2) < 0.01:  # the shape of a 360° × 180° panorama
            self.kind_combo.setCurrentIndex(self.kind_combo.findData("equirect"))
        self._set_picture(mode, picture)

    def _on_read_failed(self, mode: str, key: object, exc: BaseException) -> None:
        if self._wanted.get(mode) == key and self.mode() == mode:
            self._say(str(exc), error=True)

    def _set_picture(self, mode: str, picture: PlateSourcePicture) -> None:
        self._pictures[mode] = picture
        self._show_info()
        self.source_changed.emit()

    def _show_info(self) -> None:
        picture = self.picture()
        if picture is not None:
            height, width = picture.pixels.shape[:2]
            self._say(f"Source: {picture.label}, {width:,} × {height:,} px")
        elif not self.is_busy():
            self._say({"take": "Choose a take", "file": "Choose a picture file",
                       "generate": "Generate an environment for the wall"}[self.mode()])

    def _say(self, text: str, error: bool = False) -> None:
        self.info_label.setStyleSheet(ERROR_STYLE if error else "")
        self.info_label.setText(text)

    # -- closing -----------------------------------------------------------------------

    def stop(self, timeout_ms: int = 0) -> bool:
        """Read and generate no more: cancel what runs and wait up to `timeout_ms` (the
        project is closing). True when nothing is left running."""
        self.catalog.stop()
        reading = self._reads.stop(timeout_ms)
        generating = self.generator.stop(timeout_ms)
        return self.catalog.stop(timeout_ms) and reading and generating
