"""Where a plate's picture comes from: a take of the project, a picture file, or an
environment an engine paints for the wall from a scene (the Generate page,
plate_generate.py). Pictures are read off the GUI thread, the newest choice winning.

A full-size picture is large (an 8K panorama is 100 MB), so only the chosen mode's is
held: the others, and all of them while the dialog is hidden, are let go and read
again when wanted. A generated environment is the exception: it cannot be read again,
and making it took minutes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from PySide6.QtCore import QThreadPool, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..domain.wall import WallProfile
from ..export.plate import source_pixels
from .deck_images import CatalogState
from .latest_task import LatestTask
from .message_label import MessageLabel
from .plate_generate import GeneratedEnvironment, PlateGenerateWidget
from .services import Services
from .state import ProjectState

MODES = (("Take", "take"), ("File", "file"), ("Generate", "generate"))
READ_MODES = ("take", "file")  # the modes whose pictures can be read again
KINDS = (("Wide (spans the wall)", "wide"), ("360° equirectangular", "equirect"))
PICTURE_FILTER = "Pictures (*.png *.jpg *.jpeg *.tif *.tiff)"


@dataclass(frozen=True)
class PlateSourcePicture:
    """A source ready to use: `pixels` ((height, width, 3), uint8, or uint16 or float32
    0..1 as a deeper file holds them) for the preview, and `export`, what the plate
    export reads (the file, or the generated pixels). A generated one carries its
    `recipe` and the `coverage` of the wall it was made for (plate_generate.wall_coverage)."""

    pixels: np.ndarray
    export: Path | np.ndarray
    label: str
    recipe: dict[str, Any] | None = None
    coverage: tuple[float, int] | None = None

    @property
    def generated(self) -> bool:
        return isinstance(self.export, np.ndarray)


def read_picture(path: Path) -> np.ndarray:
    """The picture at `path` as the export reads it (`source_pixels`: 8 or 16 bits as
    the file holds them). Raises ValueError as `source_pixels`, and MemoryError naming
    the file and its size."""
    try:
        return source_pixels(path)
    except MemoryError:
        raise MemoryError(f"not enough memory to read {path.name} ({picture_size(path)})") from None


def picture_size(path: Path) -> str:
    """"8,192 × 4,096 px" from the picture's header, or "size unknown"."""
    try:
        with Image.open(path) as image:
            return f"{image.width:,} × {image.height:,} px"
    except (OSError, ValueError, Image.DecompressionBombError):
        return "size unknown"


def guessed_kind(pixels: np.ndarray) -> str:
    """"equirect" for a picture twice as wide as tall (the shape of a 360° × 180°
    panorama), else "wide"."""
    height, width = pixels.shape[:2]
    return "equirect" if abs(width / height - 2) < 0.01 else "wide"


class PlateSourceWidget(QWidget):
    """The source chooser. `picture()` is the chosen source once it is read (None
    before), `kind()` its projection (guessed for each picture, or as the user set it
    for that picture); `source_changed` follows either changing. `wall()` gives the
    wall an environment is generated for (None while it has errors)."""

    source_changed = Signal()

    def __init__(self, state: ProjectState, services: Services, pool: QThreadPool,
                 wall: Callable[[], WallProfile | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._pictures: dict[str, PlateSourcePicture] = {}  # the chosen mode's, and a generated one
        self._wanted: dict[str, object] = {}  # what each mode was asked to read (a take id, a path)
        self._kinds: dict[tuple[str, object], str] = {}  # by (mode, take id or path): guessed, or the user's
        self._reads = LatestTask(pool, 0, self)
        self.catalog = CatalogState(state, pool, self)
        self.generator = PlateGenerateWidget(state, services, wall)

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
        self.info_label = MessageLabel("No source yet")
        self._lay_out()

        self.mode_buttons.idToggled.connect(self._on_mode_toggled)
        self.take_combo.activated.connect(lambda _index: self._read_take())
        self.file_button.clicked.connect(self._on_file_clicked)
        self.file_edit.editingFinished.connect(lambda: self.load_file(Path(self.file_edit.text().strip())))
        self.generator.environment_changed.connect(self._on_environment_changed)
        self.generator.message_changed.connect(self.info_label.say)
        self.kind_combo.activated.connect(self._on_kind_activated)
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
        mode = self.mode()
        return "wide" if mode == "generate" else self._kinds.get((mode, self._wanted.get(mode)), "wide")

    def picture(self) -> PlateSourcePicture | None:
        """The chosen source, once read (or generated); None before."""
        return self._pictures.get(self.mode())

    def is_busy(self) -> bool:
        """Whether a picture is being read or an environment generated."""
        return self.is_reading() or self.generator.is_generating()

    def is_reading(self) -> bool:
        """Whether a take's or a file's picture is being read."""
        return self._reads.is_busy()

    def _on_mode_toggled(self, number: int, checked: bool) -> None:
        if not checked:
            return
        self.stack.setCurrentIndex(number)
        self._let_go(keep=self.mode())
        self._read_again()
        self._show_kind()
        self._show_info()
        self.source_changed.emit()

    def set_kind(self, kind: str) -> None:
        """Take the chosen picture as `kind` ("wide" or "equirect"), as choosing it in
        the Projection box does; kept for that picture."""
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))
        self._on_kind_activated(self.kind_combo.currentIndex())

    def _on_kind_activated(self, _index: int) -> None:
        mode = self.mode()
        if mode != "generate":
            self._kinds[(mode, self._wanted.get(mode))] = self.kind_combo.currentData()
            self.source_changed.emit()

    def _show_kind(self) -> None:
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(self.kind()))  # activated is the user's alone
        self.kind_combo.setEnabled(self.mode() != "generate")

    # -- hidden and shown --------------------------------------------------------------

    def put_away(self) -> None:
        """The dialog is hidden: read nothing more (the catalog neither), and let the
        pictures that can be read again go."""
        self.catalog.pause()
        self._let_go()

    def bring_back(self) -> None:
        """The dialog is shown again: read the catalog if it changed, and the chosen
        mode's picture again."""
        self.catalog.resume()
        self._read_again()
        self._show_info()
        self.source_changed.emit()

    def _let_go(self, keep: str | None = None) -> None:
        """Drop the pictures of the modes that can read them again, but `keep`'s. A read
        under way is the mode's being left (reads start for the chosen mode only): it
        reports nothing."""
        self._reads.discard()
        for mode in READ_MODES:
            if mode != keep:
                self._pictures.pop(mode, None)
                self._wanted.pop(mode, None)

    def _read_again(self) -> None:
        mode = self.mode()
        if mode == "take":
            self._read_take()
        elif mode == "file" and self.file_edit.text().strip():
            self.load_file(Path(self.file_edit.text().strip()))

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
        self._show_kind()
        self.info_label.say(f"Reading {label}…")
        self._reads.submit(lambda _control: read_picture(path),
                           lambda pixels: self._on_read(mode, key, PlateSourcePicture(pixels, path, label)),
                           lambda exc: self._on_read_failed(mode, key, exc))
        self.source_changed.emit()  # nothing to preview until it is read

    def _on_read(self, mode: str, key: object, picture: PlateSourcePicture) -> None:
        if self._wanted.get(mode) != key or self.mode() != mode:
            return  # another picture was chosen meanwhile, or another mode, or the dialog hidden
        self._kinds.setdefault((mode, key), guessed_kind(picture.pixels))
        self._set_picture(mode, picture)

    def _on_read_failed(self, mode: str, key: object, exc: BaseException) -> None:
        if self._wanted.get(mode) == key and self.mode() == mode:
            self.info_label.say(str(exc) or type(exc).__name__, error=True)
            self.source_changed.emit()  # read no more: the preview says so

    def _on_environment_changed(self, made: GeneratedEnvironment) -> None:
        self._set_picture("generate", PlateSourcePicture(made.pixels, made.pixels, made.label, made.recipe, made.coverage))

    def _set_picture(self, mode: str, picture: PlateSourcePicture) -> None:
        self._pictures[mode] = picture
        self._show_kind()
        self._show_info()
        self.source_changed.emit()

    def _show_info(self) -> None:
        picture = self.picture()
        if picture is not None:
            height, width = picture.pixels.shape[:2]
            self.info_label.say(f"Source: {picture.label}, {width:,} × {height:,} px")
        elif not self.is_busy():
            self.info_label.say({"take": "Choose a take", "file": "Choose a picture file",
                                 "generate": "Generate an environment for the wall"}[self.mode()])

    # -- closing -----------------------------------------------------------------------

    def stop(self, timeout_ms: int = 0) -> bool:
        """Read and generate no more: cancel what runs and wait up to `timeout_ms` (the
        project is closing). True when nothing is left running."""
        self.catalog.stop()
        reading = self._reads.stop(timeout_ms)
        generating = self.generator.stop(timeout_ms)
        return self.catalog.stop(timeout_ms) and reading and generating
