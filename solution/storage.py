"""Where the cheeps are kept: one SQLite file."""
import os
import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from time import sleep

DATABASE = os.environ.get("CHEEPER_DB") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "cheeps.db"
)
# Raised when the cheeps cannot be read or stored just now: with several
# workers writing, a write may wait for the others longer than the 5 s allowed.
Unavailable = sqlite3.OperationalError


def connect():
    db = sqlite3.connect(DATABASE)
    db.row_factory = sqlite3.Row  # rows behave like dicts: row["name"]
    return db


def create_table():
    with closing(connect()) as db:
        # Write-ahead logging: readers do not wait for a writer, and a crash
        # mid-write never damages the cheeps already committed.
        switch_to_wal(db)
        db.execute(
            """CREATE TABLE IF NOT EXISTS cheeps (
                   id    INTEGER PRIMARY KEY AUTOINCREMENT,
                   name  TEXT NOT NULL,
                   cheep TEXT NOT NULL,
                   time  TEXT NOT NULL
               )"""
        )
        db.commit()


def switch_to_wal(db, tries=100):
    """The setting stays in the file. Workers that start together on a new file
    all switch it at once, and SQLite refuses all but one without waiting:
    the others try again."""
    for attempt in range(tries):
        try:
            return db.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError:
            if attempt == tries - 1:
                raise
            sleep(0.05)


def save_cheep(name, cheep):
    """Store a cheep and return it with its id; AUTOINCREMENT never reuses an id."""
    time = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with closing(connect()) as db:
        cursor = db.execute(
            "INSERT INTO cheeps (name, cheep, time) VALUES (?, ?, ?)", (name, cheep, time)
        )
        db.commit()
    return {"id": cursor.lastrowid, "name": name, "cheep": cheep, "time": time}


def all_cheeps():
    """Every cheep, newest first, for the page."""
    with closing(connect()) as db:
        return [dict(row) for row in db.execute("SELECT * FROM cheeps ORDER BY id DESC")]


def cheeps_since(cheep_id):
    """The cheeps stored after cheep_id, oldest first, for a page catching up."""
    with closing(connect()) as db:
        rows = db.execute("SELECT * FROM cheeps WHERE id > ? ORDER BY id", (cheep_id,))
        return [dict(row) for row in rows]


def newest_id():
    """The id of the newest cheep, or 0 when there is none yet."""
    with closing(connect()) as db:
        return db.execute("SELECT MAX(id) FROM cheeps").fetchone()[0] or 0
