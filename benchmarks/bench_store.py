"""Store and import figures for docs/performance.md. Run by hand: `make bench`.

- Open a project of 200 scenes, 2,000 shots and 10,000 takes and list every shot
  (numbered); goal <= 0.5 s. Database size; goal <= 20 MB (media excluded).
- Import a generated 120-page screenplay into a new project; goal <= 2 s.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from previz_app.domain.model import Project, Scene, Shot  # noqa: E402
from previz_app.domain.vocabulary import ShotSize  # noqa: E402
from previz_app.script.importer import import_script  # noqa: E402
from previz_app.store import create_project, open_project, scenes, shots  # noqa: E402
from tests.script.synthetic import screenplay  # noqa: E402

SCENES, SHOTS_PER_SCENE, TAKES_PER_SHOT = 200, 10, 5


def recipe(shot_id: int, take: int) -> str:
    """A take recipe of realistic size (what the engine will store, ~700 bytes)."""
    return json.dumps({
        "engine": "diffusers", "model": "sdxl-base-1.0.safetensors", "model_hash": hashlib.sha256(b"m").hexdigest(),
        "prompt": "storyboard pencil sketch, wide shot, low angle, 24mm, a lighthouse keeper on a cliff at dusk, "
                  "wind, rain, dramatic clouds, film grain",
        "negative_prompt": "text, watermark, blurry", "seed": shot_id * 100 + take, "steps": 20, "guidance": 6.5,
        "width": 1280, "height": 536, "mode": "txt2img", "scheduler": "euler_a", "loras": [], "controls": [],
    })


def build_project(path: Path) -> None:
    with create_project(path, Project(title="Bench", aspect_ratio=2.39)) as folder, folder.transaction():
        db = folder.db
        take_rows, media_rows = [], []
        for n in range(SCENES):
            scene_id = scenes.insert_scene(db, Scene(number=str(n + 1), heading=f"INT. ROOM {n} - DAY", position=n,
                                                     script_text="Action line. " * 40, characters=("MARA", "TOM")))
            for s in range(SHOTS_PER_SCENE):
                shot_id = shots.append_shot(db, Shot(scene_id=scene_id, size=ShotSize.ms, action="Mara waits. " * 6,
                                                     dialogue="MARA: Something to say.", characters=("MARA",)))
                for t in range(TAKES_PER_SHOT):
                    digest = hashlib.sha256(f"{shot_id}-{t}".encode()).hexdigest()
                    media_rows.append({"hash": digest, "size": 900_000, "mime": "image/png", "original_name": "",
                                       "created": "2026-11-22T00:00:00+00:00"})
                    take_rows.append({"shot_id": shot_id, "kind": "generated", "media_hash": digest,
                                      "recipe": recipe(shot_id, t), "starred": 0, "created": "2026-11-22T00:00:00+00:00"})
        db["media"].insert_all(media_rows)
        db["takes"].insert_all(take_rows)


def open_and_list(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    with open_project(path) as folder:
        listed_scenes = scenes.list_scenes(folder.db)
        listed = shots.list_shots(folder.db)
        counts = scenes.shot_counts(folder.db)
    elapsed = time.perf_counter() - start
    assert len(listed_scenes) == SCENES and len(listed) == SCENES * SHOTS_PER_SCENE and len(counts) == SCENES
    return elapsed, len(listed)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        project = tmp / "Bench.previz"
        build_project(project)
        times = [open_and_list(project)[0] for _ in range(5)]
        with open_project(project) as folder:
            folder.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            takes = folder.db["takes"].count
        size_mb = sum(f.stat().st_size for f in project.glob("project.db*")) / 1e6
        print(f"open + list {SCENES} scenes / {SCENES * SHOTS_PER_SCENE} shots / {takes} takes: "
              f"first {times[0] * 1000:.0f} ms, best {min(times) * 1000:.0f} ms (goal <= 500 ms)")
        print(f"database size: {size_mb:.1f} MB (goal <= 20 MB, media excluded)")

        script = tmp / "long.fountain"
        script.write_text(screenplay(pages=120))
        lines = script.read_text().count("\n")
        import_times = []
        for attempt in range(3):
            with create_project(tmp / f"Import{attempt}", Project(title="Import")) as folder:
                start = time.perf_counter()
                report = import_script(folder, script)
                import_times.append(time.perf_counter() - start)
        print(f"import 120-page screenplay ({lines} lines, {len(report.added)} scenes, {report.shots_drafted} shots): "
              f"first {import_times[0]:.2f} s, best {min(import_times):.2f} s (goal <= 2 s)")

        # Revisions of the imported script: a light pass, every scene touched, a new script.
        original = script.read_text()
        revisions = {
            "light revision (40 lines changed, 1 scene added)":
                original.replace(" waits.", " waits and listens.", 40) + "\nINT. NEW ROOM - DAY\n\nA new scene.\n",
            "every scene revised": original.replace(" waits.", " waits and listens."),
            "a different 120-page script": screenplay(pages=120, seed=99),
        }
        for name, text in revisions.items():
            revised = tmp / "revised.fountain"
            revised.write_text(text)
            with create_project(tmp / f"Re{len(name)}", Project(title="Re")) as folder:
                import_script(folder, script)
                start = time.perf_counter()
                report = import_script(folder, revised)
                elapsed = time.perf_counter() - start
            print(f"re-import, {name}: {elapsed:.2f} s ({len(report.updated)} updated, {len(report.added)} added, "
                  f"{len(report.removed)} removed, {report.unchanged} unchanged)")


if __name__ == "__main__":
    main()
