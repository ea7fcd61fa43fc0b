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
        # One worker at a time from here: two could both find the key column missing.
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            """CREATE TABLE IF NOT EXISTS cheeps (
                   id    INTEGER PRIMARY KEY AUTOINCREMENT,
                   name  TEXT NOT NULL,
                   cheep TEXT NOT NULL,
                   time  TEXT NOT NULL,
                   key   TEXT
               )"""
        )
        add_key_column(db)
        # UNIQUE: a key is stored once, so a cheep sent twice is stored once.
        # (Cheeps without a key have NULL there, and NULLs never clash.)
        db.execute("CREATE UNIQUE INDEX IF NOT EXISTS cheeps_key ON cheeps (key)")
        db.commit()


def add_key_column(db):
    """A cheeps.db made before cheeps had keys lacks the column: add it, keeping every cheep."""
    columns = [column["name"] for column in db.execute("PRAGMA table_info(cheeps)")]
    if "key" not in columns:
        db.execute("ALTER TABLE cheeps ADD COLUMN key TEXT")


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


def save_cheep(name, cheep, key=None):
    """Store a cheep; return it with its id, and True. AUTOINCREMENT never reuses an id.
    A key stored before stores nothing: that returns the cheep stored with it, and False."""
    time = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with closing(connect()) as db:
        try:
            with db:  # commits the insert
                cursor = db.execute(
                    "INSERT INTO cheeps (name, cheep, time, key) VALUES (?, ?, ?, ?)",
                    (name, cheep, time, key),
                )
        except sqlite3.IntegrityError:  # the UNIQUE index: this key is stored already
            row = db.execute("SELECT * FROM cheeps WHERE key = ?", (key,)).fetchone()
            return as_cheep(row), False
    return as_cheep({"id": cursor.lastrowid, "name": name, "cheep": cheep, "time": time, "key": key}), True


def as_cheep(row):
    """A row as a dict; a cheep sent without a key has no "key" at all."""
    return {field: value for field, value in dict(row).items() if value is not None}


def newest_cheeps(limit, before=None):
    """The newest `limit` cheeps (before the id `before`, when given), newest first:
    a page of the feed. The id is the table's own index (its rowid), so SQLite
    walks straight to the page: as fast with 50,000 cheeps as with 50."""
    with closing(connect()) as db:
        rows = db.execute(
            "SELECT * FROM cheeps WHERE id < ? ORDER BY id DESC LIMIT ?",
            (2**63 - 1 if before is None else before, limit),
        )
        return [as_cheep(row) for row in rows]


def cheeps_since(cheep_id, limit=-1):
    """The cheeps stored after cheep_id, oldest first, for a page catching up:
    the first `limit` of them (-1: every one)."""
    with closing(connect()) as db:
        rows = db.execute("SELECT * FROM cheeps WHERE id > ? ORDER BY id LIMIT ?", (cheep_id, limit))
        return [as_cheep(row) for row in rows]


def newest_id():
    """The id of the newest cheep, or 0 when there is none yet."""
    with closing(connect()) as db:
        return db.execute("SELECT MAX(id) FROM cheeps").fetchone()[0] or 0
