"""Desktop app figures for docs/performance.md. Run by hand:
`QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui.py` (or under xvfb-run).

1. A 2,000-shot project (200 scenes; every shot has a 1280×536 blocking panel as its
   hero take) opens to a painted board: time from `open_project` to the first paint of
   the board, and to the moment every visible panel shows its thumbnail — with a cold
   thumbnail cache (made from the full PNGs) and a warm one (read from disk).
   Goal: ≤ 1 s. Then page-by-page scrolling through the whole board.
2. The longest gap in the GUI event loop while the real blocking engine generates
   frames through the generation queue (goal ≤ 50 ms), from a 1 ms timer.
3. The whole film at once: select all 2,000 shots and Generate, then Cancel all, then
   close the window with the queue full; each as the call plus the longest event-loop
   gap in the second after it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QElapsedTimer, QEvent, QObject, QSettings, QThreadPool, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from previz_app.domain.model import Project, Scene, Shot  # noqa: E402
from previz_app.domain.vocabulary import ShotSize, TakeKind  # noqa: E402
from previz_app.engine.base import RenderContext  # noqa: E402
from previz_app.engine.blocking.panel import BlockingEngine  # noqa: E402
from previz_app.engine.discovery.library import ModelLibrary  # noqa: E402
from previz_app.engine.engines import make_engines  # noqa: E402
from previz_app.engine.frames import frame_request, shot_context, write_frame  # noqa: E402
from previz_app.store import create_project, scenes, shots, takes  # noqa: E402
from previz_app.ui.main_window import MainWindow  # noqa: E402
from previz_app.ui.services import Services  # noqa: E402
from previz_app.ui.theme import apply_dark_theme  # noqa: E402

SIZES = list(ShotSize)
DISTINCT_PANELS = 160  # more than fit on a screen at any zoom, so every visible panel differs


def build_project(path: Path) -> None:
    """200 scenes × 10 shots; each shot's hero is one of DISTINCT_PANELS real panels."""
    with create_project(path, Project(title="Bench", aspect_ratio=2.39)) as folder:
        with folder.transaction():
            for n in range(200):
                scene_id = scenes.insert_scene(folder.db, Scene(number=str(n + 1), heading=f"INT. ROOM {n + 1} - NIGHT", position=n, location=f"ROOM {n + 1}"))
                for s in range(10):
                    shots.append_shot(folder.db, Shot(scene_id=scene_id, size=SIZES[(n + s) % len(SIZES)], duration=1.5 + (s % 5), characters=("MARA", "TOM")[: 1 + s % 2]))
        engine, frames = BlockingEngine(), []
        listed = shots.list_shots(folder.db)
        for shot in listed[:DISTINCT_PANELS]:
            frames.append(write_frame(folder.media, engine.render(frame_request(shot_context(folder, shot.id)), RenderContext())))
        with folder.transaction():
            for index, shot in enumerate(listed):
                frame = frames[index % DISTINCT_PANELS]
                takes.record_take(folder.db, shot.id, TakeKind.generated, frame.digest, frame.size, frame.recipe)


def services(scratch: Path) -> Services:
    pool = QThreadPool()
    pool.setMaxThreadCount(max(2, (os.cpu_count() or 2) - 1))
    library = lambda: ModelLibrary(scratch / "library")  # noqa: E731
    return Services(QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat), scratch / "thumbnails",
                    lambda choice: make_engines(), library, pool)


class FirstPaint(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.at: float | None = None

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint and self.at is None:
            self.at = time.perf_counter()
        return False


def wait_until(app: QApplication, ready, timeout: float = 60.0) -> float:
    start = time.perf_counter()
    while not ready():
        app.processEvents()
        if time.perf_counter() - start > timeout:
            raise TimeoutError("the board did not finish painting")
        time.sleep(0.001)
    return time.perf_counter()


def open_board(app: QApplication, path: Path, scratch: Path) -> dict[str, float]:
    window = MainWindow(services(scratch))
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    painted = FirstPaint()
    start = time.perf_counter()
    window.open_project(path)
    board = window.workspace.board
    board.list_view.viewport().installEventFilter(painted)
    first = wait_until(app, lambda: painted.at is not None)
    done = wait_until(app, lambda: board.visible_thumbnails_pending() == 0 and window.workspace.thumbnails.pending() == 0)
    figures = {"first paint": (painted.at or first) - start, "thumbnails painted": done - start}
    bar = board.list_view.verticalScrollBar()
    steps = []
    while bar.value() < bar.maximum():
        tick = time.perf_counter()
        bar.setValue(bar.value() + bar.pageStep())
        board.list_view.viewport().repaint()
        steps.append(time.perf_counter() - tick)
    figures["scroll page median"] = statistics.median(steps)
    figures["scroll page worst"] = max(steps)
    figures["pages"] = len(steps)
    window.close()
    app.processEvents()
    return figures


def event_loop_gap(app: QApplication, path: Path, scratch: Path, count: int) -> dict[str, float]:
    window = MainWindow(services(scratch))
    window.resize(1600, 1000)
    window.show()
    window.open_project(path)
    wait_until(app, lambda: window.workspace.thumbnails.pending() == 0)
    # Measure the steady state: the first activation repaints the whole window once.
    window.activateWindow()
    QTest.qWaitForWindowActive(window, 5000)
    QTest.qWait(500)
    queue = window.workspace.queue
    ids = [window.workspace.board.model.shot_id_at(row) for row in range(count)]
    clock, gaps = QElapsedTimer(), []
    timer = QTimer()
    timer.setInterval(1)

    def tick() -> None:
        gaps.append(clock.restart())

    timer.timeout.connect(tick)
    kept = []
    queue.frame_kept.connect(lambda shot_id, take_id: kept.append(take_id))
    clock.start()
    timer.start()
    start = time.perf_counter()
    queue.generate(ids, 1)
    wait_until(app, lambda: len(kept) >= count, timeout=600)
    elapsed = time.perf_counter() - start
    timer.stop()
    window.close()
    app.processEvents()
    return {"frames": count, "seconds": elapsed, "longest gap ms": max(gaps), "median gap ms": statistics.median(gaps), "ticks": len(gaps)}


def whole_film(app: QApplication, path: Path, scratch: Path) -> dict[str, float]:
    window = MainWindow(services(scratch))
    window.resize(1600, 1000)
    window.show()
    window.open_project(path)
    wait_until(app, lambda: window.workspace.thumbnails.pending() == 0)
    workspace = window.workspace
    workspace.board.list_view.selectAll()
    clock, gaps = QElapsedTimer(), []
    timer = QTimer()
    timer.setInterval(1)
    timer.timeout.connect(lambda: gaps.append(clock.restart()))

    def measure(action) -> float:
        gaps.clear()
        clock.start()
        timer.start()
        start = time.perf_counter()
        action()
        call = (time.perf_counter() - start) * 1000
        clock.restart()
        settle = time.perf_counter() + 1.0
        while time.perf_counter() < settle:
            app.processEvents()
            time.sleep(0.001)
        timer.stop()
        return call + max(gaps, default=0)

    figures = {"generate": measure(lambda: workspace.generate_selected(1)), "jobs": workspace.queue_view.model.rowCount()}
    figures["cancel all"] = measure(workspace.queue.cancel_all)
    measure(lambda: workspace.generate_selected(1))
    start = time.perf_counter()
    window.close()
    figures["close"] = (time.perf_counter() - start) * 1000
    app.processEvents()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60, help="frames generated while measuring the event-loop gap")
    parser.add_argument("--keep", type=Path, help="build the project here once and reuse it")
    args = parser.parse_args()
    app = QApplication([])
    apply_dark_theme(app)
    scratch = Path(tempfile.mkdtemp(prefix="previz-bench-gui-"))
    path = (args.keep or scratch) / "Bench.previz"
    if not (path / "project.db").exists():
        tick = time.perf_counter()
        build_project(path)
        print(f"built {path} in {time.perf_counter() - tick:.1f} s")
    try:
        cold = open_board(app, path, scratch / "cold")
        shutil.copytree(scratch / "cold" / "thumbnails", scratch / "warm" / "thumbnails")
        warm = open_board(app, path, scratch / "warm")
        for name, figures in (("cold thumbnail cache", cold), ("warm thumbnail cache", warm)):
            print(f"open 2,000 shots, {name}: first paint {figures['first paint'] * 1000:.0f} ms, "
                  f"visible thumbnails painted {figures['thumbnails painted'] * 1000:.0f} ms; "
                  f"scrolling {figures['pages']:.0f} pages: median {figures['scroll page median'] * 1000:.1f} ms, "
                  f"worst {figures['scroll page worst'] * 1000:.1f} ms a page")
        film = whole_film(app, path, scratch / "film")
        print(f"whole film: Generate {film['jobs']:.0f} shots {film['generate']:.0f} ms, Cancel all {film['cancel all']:.0f} ms, "
              f"close with a full queue {film['close']:.0f} ms (each: the call plus the longest gap in the second after)")
        gap = event_loop_gap(app, path, scratch / "gap", args.frames)
        print(f"generation: {gap['frames']} blocking frames in {gap['seconds']:.1f} s; event loop gap longest "
              f"{gap['longest gap ms']:.0f} ms, median {gap['median gap ms']:.0f} ms over {gap['ticks']} ticks")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
