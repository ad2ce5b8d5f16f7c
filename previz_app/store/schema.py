"""Numbered schema migrations, recorded in the database by sqlite-utils.

Add a migration at the end; never edit one that has shipped. Each runs in its own
transaction together with the record that it ran.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATION_SET = "previz"

migrations = Migrations(MIGRATION_SET)


def _execute_all(db: Database, script: str) -> None:
    # Not executescript(): it commits first, which would split a migration from the
    # record that it ran.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


@migrations(name="0001_core")
def _core(db: Database) -> None:
    _execute_all(
        db,
        """
        CREATE TABLE project (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            title TEXT NOT NULL,
            logline TEXT NOT NULL DEFAULT '',
            aspect_ratio REAL NOT NULL,
            fps REAL NOT NULL,
            default_shot_duration REAL NOT NULL,
            style_preset TEXT NOT NULL
        );
        CREATE TABLE media (
            hash TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            mime TEXT NOT NULL DEFAULT '',
            original_name TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL
        );
        CREATE TABLE scenes (
            id INTEGER PRIMARY KEY,
            number TEXT NOT NULL,
            heading TEXT NOT NULL,
            int_ext TEXT NOT NULL DEFAULT '',
            location TEXT NOT NULL DEFAULT '',
            time_of_day TEXT NOT NULL DEFAULT '',
            synopsis TEXT NOT NULL DEFAULT '',
            position INTEGER NOT NULL,
            script_text TEXT NOT NULL DEFAULT '',
            characters TEXT NOT NULL DEFAULT '[]',
            removed INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE shots (
            id INTEGER PRIMARY KEY,
            scene_id INTEGER NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            size TEXT NOT NULL,
            angle TEXT NOT NULL,
            movement TEXT NOT NULL,
            direction TEXT NOT NULL DEFAULT '',
            lens_mm REAL NOT NULL,
            duration REAL NOT NULL,
            action TEXT NOT NULL DEFAULT '',
            dialogue TEXT NOT NULL DEFAULT '',
            notes TEXT NOT NULL DEFAULT '',
            characters TEXT NOT NULL DEFAULT '[]',
            prompt_override TEXT NOT NULL DEFAULT '',
            negative_prompt TEXT NOT NULL DEFAULT '',
            seed INTEGER,
            locked_number TEXT,
            hero_take_id INTEGER REFERENCES takes(id) ON DELETE SET NULL
        );
        CREATE TABLE takes (
            id INTEGER PRIMARY KEY,
            shot_id INTEGER NOT NULL REFERENCES shots(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('generated', 'drawn', 'imported')),
            media_hash TEXT NOT NULL REFERENCES media(hash),
            recipe TEXT NOT NULL DEFAULT '{}',
            parent_id INTEGER REFERENCES takes(id) ON DELETE SET NULL,
            starred INTEGER NOT NULL DEFAULT 0,
            created TEXT NOT NULL
        );
        """
    )


@migrations(name="0002_cast_and_locations")
def _cast(db: Database) -> None:
    _execute_all(
        db,
        """
        CREATE TABLE characters (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            reference_images TEXT NOT NULL DEFAULT '[]'
        );
        CREATE TABLE locations (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            reference_images TEXT NOT NULL DEFAULT '[]'
        );
        """
    )


@migrations(name="0003_listing_indexes")
def _indexes(db: Database) -> None:
    _execute_all(
        db,
        """
        CREATE INDEX shots_by_scene ON shots(scene_id, position);
        CREATE INDEX takes_by_shot ON takes(shot_id);
        CREATE INDEX scenes_by_position ON scenes(position);
        """
    )


@migrations(name="0004_animatic")
def _animatic(db: Database) -> None:
    _execute_all(
        db,
        """
        ALTER TABLE shots ADD COLUMN transition_in TEXT NOT NULL DEFAULT 'cut';
        ALTER TABLE shots ADD COLUMN transition_out TEXT NOT NULL DEFAULT 'cut';
        ALTER TABLE shots ADD COLUMN transition_seconds REAL NOT NULL DEFAULT 1.0;
        ALTER TABLE shots ADD COLUMN audio_hash TEXT REFERENCES media(hash);
        ALTER TABLE shots ADD COLUMN audio_level_db REAL NOT NULL DEFAULT 0.0;
        ALTER TABLE project ADD COLUMN start_timecode TEXT NOT NULL DEFAULT '01:00:00:00';
        ALTER TABLE project ADD COLUMN music_hash TEXT REFERENCES media(hash);
        ALTER TABLE project ADD COLUMN music_level_db REAL NOT NULL DEFAULT -12.0;
        CREATE TABLE shot_motion (
            id INTEGER PRIMARY KEY,
            shot_id INTEGER NOT NULL REFERENCES shots(id) ON DELETE CASCADE,
            take_id INTEGER NOT NULL REFERENCES takes(id) ON DELETE CASCADE,
            recipe TEXT NOT NULL DEFAULT '{}',
            keyframes TEXT NOT NULL DEFAULT '[]',
            created TEXT NOT NULL
        );
        CREATE INDEX shot_motion_by_shot ON shot_motion(shot_id)
        """
    )


@migrations(name="0005_deck")
def _deck(db: Database) -> None:
    # The pitch deck: one row of text, lists in child tables ordered by `position`.
    # Pictures are takes and key sequences are shots: a mood picture or sequence whose
    # take or shot is deleted leaves the deck with it; key art and character pictures
    # are cleared.
    _execute_all(
        db,
        """
        CREATE TABLE deck (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            title TEXT NOT NULL DEFAULT '',
            key_art_take_id INTEGER REFERENCES takes(id) ON DELETE SET NULL,
            logline TEXT NOT NULL DEFAULT '',
            synopsis TEXT NOT NULL DEFAULT '',
            director_statement TEXT NOT NULL DEFAULT '',
            producer_statement TEXT NOT NULL DEFAULT '',
            tone TEXT NOT NULL DEFAULT '',
            currency TEXT NOT NULL DEFAULT 'USD',
            budget_total INTEGER,
            contact TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE deck_mood (
            position INTEGER PRIMARY KEY,
            take_id INTEGER NOT NULL REFERENCES takes(id) ON DELETE CASCADE
        );
        CREATE TABLE deck_characters (
            position INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            cast_name TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL CHECK (status IN ('attached', 'wishlist')),
            image_take_id INTEGER REFERENCES takes(id) ON DELETE SET NULL
        );
        CREATE TABLE deck_sequences (
            position INTEGER PRIMARY KEY,
            shot_id INTEGER NOT NULL REFERENCES shots(id) ON DELETE CASCADE
        );
        CREATE TABLE deck_comparables (
            position INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            year INTEGER,
            budget INTEGER,
            gross INTEGER,
            source TEXT NOT NULL DEFAULT '',
            retrieved TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE deck_budget_lines (
            position INTEGER PRIMARY KEY,
            category TEXT NOT NULL,
            amount INTEGER NOT NULL
        );
        CREATE TABLE deck_financing (
            position INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            amount INTEGER NOT NULL,
            secured INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE deck_schedule (
            position INTEGER PRIMARY KEY,
            phase TEXT NOT NULL,
            start TEXT NOT NULL DEFAULT '',
            end_ TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE deck_team (
            position INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            role TEXT NOT NULL DEFAULT '',
            bio TEXT NOT NULL DEFAULT ''
        )
        """
    )


@migrations(name="0006_walls")
def _walls(db: Database) -> None:
    # LED-wall profiles by name, each the profile's JSON (domain.wall.profile_json), in
    # the order the user keeps them.
    _execute_all(
        db,
        """
        CREATE TABLE walls (
            name TEXT PRIMARY KEY,
            profile TEXT NOT NULL,
            position INTEGER NOT NULL
        )
        """
    )


def known_migration_names() -> list[str]:
    """Names of every migration this version of previz knows, in order."""
    return [migration.name for migration in migrations.pending(Database(memory=True))]
