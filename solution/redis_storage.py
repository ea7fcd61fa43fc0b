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


def newest_cheeps(limit, before=None):
    """The newest `limit` cheeps (before the id `before`, when given), newest first.
    LRANGE walks the list from its nearer end in blocks of many cheeps, so even
    a page from the middle of 50,000 costs well under a millisecond."""
    newest = db.llen(KEY)  # the id of the newest cheep: ids are places in the list, from 1
    before = newest + 1 if before is None else min(before, newest + 1)
    start = max(before - 1 - limit, 0)  # the list counts from 0: the cheep with id 1 is at 0
    items = db.lrange(KEY, start, before - 2) if before > 1 else []
    return [{"id": start + 1 + index, **json.loads(item)} for index, item in enumerate(items)][::-1]


def cheeps_since(cheep_id, limit=-1):
    """The cheeps stored after cheep_id, oldest first: the first `limit` of them
    (-1: every one). The list counts from 0, so the cheep after cheep_id is at
    index cheep_id."""
    # Redis takes indexes up to 2**63 - 1 only, and ids go as far.
    items = db.lrange(KEY, cheep_id, -1 if limit < 0 else min(cheep_id + limit - 1, 2**63 - 1))
    return [{"id": cheep_id + 1 + index, **json.loads(item)} for index, item in enumerate(items)]


def newest_id():
    return db.llen(KEY)
