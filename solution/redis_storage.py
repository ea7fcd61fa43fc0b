"""Where the cheeps are kept when Cheeper runs on several machines: a list in
Redis, which every worker on every machine reaches over the network.

The same functions as storage.py, chosen with CHEEPER_DB=redis://host:6379/0.
A cheep's id is its place in the list: 1, 2, 3 and so on. Pushing onto a list
returns that place, so no two workers ever get the same id.
"""
import json
import os
from datetime import datetime, timezone

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

KEY = "cheeper:cheeps"
Unavailable = redis.RedisError  # raised when Redis cannot be reached

# No retries: a push sent again after its answer was lost would store the cheep twice.
db = redis.Redis.from_url(os.environ["CHEEPER_DB"], decode_responses=True, retry=Retry(NoBackoff(), 0))


def create_table():
    """Nothing to create: a Redis list appears with its first item."""


def save_cheep(name, cheep):
    time = datetime.now(timezone.utc).isoformat(timespec="seconds")
    stored = {"name": name, "cheep": cheep, "time": time}
    cheep_id = db.rpush(KEY, json.dumps(stored))  # the list's new length: this cheep's place
    return {"id": cheep_id, **stored}


def cheeps_since(cheep_id):
    """The cheeps stored after cheep_id, oldest first. The list counts from 0, so
    the cheep after cheep_id is at index cheep_id."""
    items = db.lrange(KEY, cheep_id, -1)
    return [{"id": cheep_id + 1 + index, **json.loads(item)} for index, item in enumerate(items)]


def all_cheeps():
    """Every cheep, newest first, for the page."""
    return cheeps_since(0)[::-1]


def newest_id():
    return db.llen(KEY)
