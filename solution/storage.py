"""Where the cheeps are kept: one SQLite file.

A cheep the instructor removes stays in the table as an empty row marked
removed: its key must stay stored, so that a page sending it again is told it
was removed instead of storing it again. Each removal is written down in
order (the removals table), so that a page that was away learns of it.
"""

import os
import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from time import sleep

DATABASE = os.environ.get("CHEEPER_DB") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "cheeps.db")
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
        # One worker at a time from here: two could both find a column missing.
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
        add_missing_columns(db)
        # Each removal, in order: one cheep (id), or every cheep up to an id (up_to).
        db.execute(
            """CREATE TABLE IF NOT EXISTS removals (
                   seq   INTEGER PRIMARY KEY AUTOINCREMENT,
                   id    INTEGER,
                   up_to INTEGER
               )"""
        )
        # UNIQUE: a key is stored once, so a cheep sent twice is stored once.
        # (Cheeps without a key have NULL there, and NULLs never clash.)
        db.execute("CREATE UNIQUE INDEX IF NOT EXISTS cheeps_key ON cheeps (key)")
        # The cheeps not removed, in id order: after a fresh start, a page of the feed
        # goes straight to them instead of stepping over every removed one.
        db.execute("CREATE INDEX IF NOT EXISTS cheeps_shown ON cheeps (id) WHERE NOT removed")
        db.commit()


def add_missing_columns(db):
    """A cheeps.db made by an earlier Cheeper lacks the newer columns: add them, keeping every cheep."""
    columns = [column["name"] for column in db.execute("PRAGMA table_info(cheeps)")]
    for column, kind in NEWER_COLUMNS.items():
        if column not in columns:
            db.execute(f"ALTER TABLE cheeps ADD COLUMN {column} {kind}")


NEWER_COLUMNS = {
    "key": "TEXT",  # the key the page made for the cheep
    "address": "TEXT",  # the sender's address, for the instructor's "Mute address"; never shown
    "removed": "INTEGER NOT NULL DEFAULT 0",  # 1: the instructor removed it
}


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


def save_cheep(name, cheep, key=None, address=None):
    """Store a cheep; return it with its id, and True. AUTOINCREMENT never reuses an id.
    A key stored before stores nothing: that returns the cheep stored with it
    (with "removed": True, if the instructor removed it), and False."""
    time = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with closing(connect()) as db:
        try:
            with db:  # commits the insert
                cursor = db.execute(
                    "INSERT INTO cheeps (name, cheep, time, key, address) VALUES (?, ?, ?, ?, ?)",
                    (name, cheep, time, key, address),
                )
        except sqlite3.IntegrityError:  # the UNIQUE index: this key is stored already
            row = db.execute("SELECT * FROM cheeps WHERE key = ?", (key,)).fetchone()
            return as_cheep(row), False
    return as_cheep({"id": cursor.lastrowid, "name": name, "cheep": cheep, "time": time, "key": key}), True


def as_cheep(row):
    """A row as a dict; a cheep sent without a key has no "key" at all. The sender's
    address stays here: see sender_of()."""
    row = dict(row)
    cheep = {field: row[field] for field in ("id", "name", "cheep", "time", "key") if row[field] is not None}
    if row.get("removed"):
        cheep["removed"] = True
    return cheep


def newest_cheeps(limit, before=None):
    """The newest `limit` cheeps (before the id `before`, when given), newest first:
    a page of the feed. The id is the table's own index (its rowid), so SQLite
    walks straight to the page: as fast with 50,000 cheeps as with 50."""
    with closing(connect()) as db:
        rows = db.execute(
            "SELECT * FROM cheeps WHERE id < ? AND NOT removed ORDER BY id DESC LIMIT ?",
            (2**63 - 1 if before is None else before, limit),
        )
        return [as_cheep(row) for row in rows]


def cheeps_since(cheep_id, limit=-1):
    """The cheeps stored after cheep_id, oldest first, for a page catching up:
    the first `limit` of them (-1: every one)."""
    with closing(connect()) as db:
        rows = db.execute("SELECT * FROM cheeps WHERE id > ? AND NOT removed ORDER BY id LIMIT ?", (cheep_id, limit))
        return [as_cheep(row) for row in rows]


def newest_id():
    """The id of the newest cheep, or 0 when there is none yet."""
    with closing(connect()) as db:
        return db.execute("SELECT MAX(id) FROM cheeps").fetchone()[0] or 0


def sender_of(cheep_id):
    """The name a cheep was sent with, and the address it came from (None when it was
    stored before addresses were); None when there is no such cheep."""
    with closing(connect()) as db:
        row = db.execute("SELECT name, address FROM cheeps WHERE id = ? AND NOT removed", (cheep_id,)).fetchone()
        return row and (row["name"], row["address"])


def remove_cheep(cheep_id):
    """Empty a cheep and mark it removed; return the removal ({"seq", "id"}), or
    None when there is no such cheep to remove."""
    with closing(connect()) as db, db:
        removed = db.execute(
            "UPDATE cheeps SET name = '', cheep = '', address = NULL, removed = 1 WHERE id = ? AND NOT removed",
            (cheep_id,),
        )
        if not removed.rowcount:
            return None
        seq = db.execute("INSERT INTO removals (id) VALUES (?)", (cheep_id,)).lastrowid
    return {"seq": seq, "id": cheep_id}


def remove_all():
    """Empty every cheep stored so far (a new workshop); return the removal ({"seq", "up_to"})."""
    with closing(connect()) as db, db:
        db.execute("BEGIN IMMEDIATE")  # no cheep is stored between reading the newest id and emptying
        up_to = db.execute("SELECT COALESCE(MAX(id), 0) FROM cheeps").fetchone()[0]
        db.execute(
            "UPDATE cheeps SET name = '', cheep = '', address = NULL, removed = 1 WHERE id <= ? AND NOT removed",
            (up_to,),
        )
        seq = db.execute("INSERT INTO removals (up_to) VALUES (?)", (up_to,)).lastrowid
    return {"seq": seq, "up_to": up_to}


def removals_since(seq):
    """The removals after the one numbered seq, oldest first."""
    with closing(connect()) as db:
        rows = db.execute("SELECT * FROM removals WHERE seq > ? ORDER BY seq", (seq,))
        return [{field: value for field, value in dict(row).items() if value is not None} for row in rows]


def newest_removal():
    """The number of the newest removal, or 0 when there is none yet."""
    with closing(connect()) as db:
        return db.execute("SELECT MAX(seq) FROM removals").fetchone()[0] or 0
