"""`previz-gui [PROJECT_DIR]`: builds the application's objects and wires them; no
globals. `--screenshot OUT.png` opens the project, waits until the board's
thumbnails are painted, saves the window and exits."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths, Qt, QThreadPool, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from .domain.deck import empty_sections
from .engine.discovery.library import ModelLibrary
from .ui.main_window import MainWindow
from .ui.services import Services, real_engines
from .ui.theme import apply_dark_theme

SCREENSHOT_TIMEOUT_MS = 60_000


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="previz-gui", description="The previz desktop app.")
    parser.add_argument("project", nargs="?", help="a project folder (Name.previz) to open")
    parser.add_argument("--screenshot", metavar="OUT.png", help="open PROJECT, wait for the painted board, save the window, exit")
    parser.add_argument("--size", default="1600x1000", help="window size for --screenshot, WIDTHxHEIGHT (default 1600x1000)")
    parser.add_argument("--player", action="store_true", help="with --screenshot: show the animatic player and wait for its first frame")
    parser.add_argument("--dialog", choices=("boards", "deck", "plate"),
                        help="with --screenshot: save the board export dialog, the pitch deck editor or the LED-wall "
                             "plate dialog (with an environment generated for its wall) once its preview is drawn")
    args = parser.parse_args(argv)
    try:
        args.size = tuple(int(v) for v in args.size.lower().split("x"))
        if len(args.size) != 2 or min(args.size) < 200:
            raise ValueError
    except ValueError:
        parser.error(f"--size must look like 1600x1000, not {args.size!r}")
    if args.screenshot and not args.project:
        parser.error("--screenshot needs a PROJECT to open")
    return args


def user_services(settings: QSettings) -> Services:
    """The real services: the user's settings, thumbnail cache and model library."""
    home = os.environ.get("PREVIZ_HOME")
    cache = Path(home) / "cache" if home else Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation))
    pool = QThreadPool()
    pool.setMaxThreadCount(max(2, (os.cpu_count() or 2) - 1))
    return Services(settings, cache / "thumbnails", real_engines(ModelLibrary.for_user), ModelLibrary.for_user, pool)


def take_screenshot(window: MainWindow, out: Path, app: QApplication, player: bool = False, dialog: str | None = None) -> None:
    """Save the window once the board's visible thumbnails (and with `player`, the
    player's first frame) are painted, or on timeout; with `dialog` ("boards",
    "deck", "plate"), that dialog once its preview is drawn."""
    waited = {"ms": 0}
    shown = None
    if dialog == "boards":
        shown = window.workspace.exports.show_board_dialog()
    elif dialog == "deck":
        shown = window.workspace.exports.show_deck_editor()
        shown.resize(1440, 900)
        shown.show_section("title" if "tone" in empty_sections(shown.deck) else "tone")
    elif dialog == "plate":
        shown = window.workspace.exports.show_plate_dialog()
        shown.source.set_mode("generate")  # the blocking engine paints the scene round the wall
        shown.source.generator.generate()

    def poll() -> None:
        workspace = window.workspace
        ready = workspace is not None and workspace.board.visible_thumbnails_pending() == 0 and workspace.thumbnails.pending() == 0
        ready = ready and (not player or workspace.player.displayed_frame is not None)
        ready = ready and (shown is None or shown.preview_ready())
        waited["ms"] += 100
        if ready or waited["ms"] >= SCREENSHOT_TIMEOUT_MS:
            timer.stop()
            app.processEvents()
            out.parent.mkdir(parents=True, exist_ok=True)
            saved = (shown or window).grab().save(str(out))
            if not ready:
                print(f"previz-gui: thumbnails still loading after {SCREENSHOT_TIMEOUT_MS // 1000} s", file=sys.stderr)
            app.exit(0 if ready and saved else 1)

    timer = QTimer(window)
    timer.timeout.connect(poll)
    timer.start(100)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # Qt 6 scales for high DPI on its own; pass fractional factors (1.25, 1.5) through
    # instead of rounding, so panels and thumbnails stay crisp.
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("previz")
    app.setOrganizationName("previz")
    apply_dark_theme(app)
    if args.screenshot:
        # A screenshot is made from a clean layout, not the user's remembered one.
        scratch = tempfile.TemporaryDirectory(prefix="previz-shot-")
        settings = QSettings(str(Path(scratch.name) / "settings.ini"), QSettings.Format.IniFormat)
    else:
        settings = QSettings()
    window = MainWindow(user_services(settings))
    if args.screenshot:
        window.resize(*args.size)
    window.show()
    if args.project and not window.open_project(args.project) and args.screenshot:
        print(f"previz-gui: cannot open {args.project}", file=sys.stderr)
        window.close()
        return 1
    if args.screenshot:
        if args.player:
            window.show_player()
        take_screenshot(window, Path(args.screenshot), app, args.player, args.dialog)
    code = app.exec()
    window.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
