"""Cheeper, step 0: the request/response app you already know.

You post a cheep with the form; the server stores it in SQLite and sends your
browser back to the page, which lists every cheep, newest first. Nobody else
sees your cheep until they reload their page.
"""

import os
import sqlite3
from datetime import datetime, timezone

from flask import Flask, redirect, render_template, request

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "5000"))
DATABASE = os.environ.get("CHEEPER_DB") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "cheeps.db")

app = Flask(__name__)


def connect():
    db = sqlite3.connect(DATABASE)
    db.row_factory = sqlite3.Row  # rows behave like dicts: row["name"]
    return db


def create_table():
    db = connect()
    db.execute(
        """CREATE TABLE IF NOT EXISTS cheeps (
               id    INTEGER PRIMARY KEY AUTOINCREMENT,
               name  TEXT NOT NULL,
               cheep TEXT NOT NULL,
               time  TEXT NOT NULL
           )"""
    )
    db.commit()
    db.close()


def save_cheep(name, cheep):
    time = datetime.now(timezone.utc).isoformat(timespec="seconds")
    db = connect()
    db.execute("INSERT INTO cheeps (name, cheep, time) VALUES (?, ?, ?)", (name, cheep, time))
    db.commit()
    db.close()


def all_cheeps():
    db = connect()
    cheeps = db.execute("SELECT * FROM cheeps ORDER BY id DESC").fetchall()
    db.close()
    return cheeps


@app.route("/")
def index():
    return render_template("index.html", cheeps=all_cheeps())


@app.route("/api/cheep", methods=["POST"])
def post_cheep():
    save_cheep(request.form["name"], request.form["cheep"])
    # 303 See Other: the browser follows it with a GET, so reloading the page
    # afterwards does not post the same cheep again.
    return redirect("/", code=303)


create_table()

if __name__ == "__main__":
    app.run(host=HOST, port=PORT)
