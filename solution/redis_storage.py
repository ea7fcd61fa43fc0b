"""Where the cheeps are kept when Cheeper runs on several machines: a list in
Redis, which every worker on every machine reaches over the network.

The same functions as storage.py, chosen with CHEEPER_DB=redis://host:6379/0.
A cheep's id is its place in the list: 1, 2, 3 and so on. Pushing onto a list
returns that place, so no two workers ever get the same id. A hash remembers the
id of each key, so that a key is stored once.
"""
import json
import os
from datetime import datetime, timezone

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

KEY = "cheeper:cheeps"
IDS_BY_KEY = "cheeper:keys"  # a hash: a cheep's key -> its id
Unavailable = redis.RedisError  # raised when Redis cannot be reached

# No retries: a push sent again after its answer was lost would store the cheep twice.
# At most 32 connections to Redis, however many requests wait: they come out of the
# open files the server keeps in reserve (FILES_IN_RESERVE, in limits.py).
db = redis.Redis(
    connection_pool=redis.BlockingConnectionPool.from_url(
        os.environ["CHEEPER_DB"], max_connections=32, timeout=5, decode_responses=True, retry=Retry(NoBackoff(), 0)
    )
)


def create_table():
    """Nothing to create: a Redis list appears with its first item."""


# Redis runs a script whole before any other command: two workers storing the
# same key at the same moment store one cheep. It returns {id, 1 if stored now}.
SAVE_ONCE = db.register_script("""
local id = redis.call("HGET", KEYS[2], ARGV[1])
if id then return {tonumber(id), 0} end
id = redis.call("RPUSH", KEYS[1], ARGV[2])
redis.call("HSET", KEYS[2], ARGV[1], id)
return {id, 1}
""")


def save_cheep(name, cheep, key=None):
    """Store a cheep; return it with its id, and True. A key stored before stores
    nothing: that returns the cheep stored with it, and False."""
    time = datetime.now(timezone.utc).isoformat(timespec="seconds")
    stored = {"name": name, "cheep": cheep, "time": time}
    if key is None:
        cheep_id = db.rpush(KEY, json.dumps(stored))  # the list's new length: this cheep's place
        return {"id": cheep_id, **stored}, True
    stored["key"] = key
    cheep_id, new = SAVE_ONCE(keys=[KEY, IDS_BY_KEY], args=[key, json.dumps(stored)])
    if not new:
        stored = json.loads(db.lindex(KEY, cheep_id - 1))
    return {"id": cheep_id, **stored}, bool(new)


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
