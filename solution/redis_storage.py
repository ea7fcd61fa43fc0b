"""Where the cheeps are kept when Cheeper runs on several machines: a list in
Redis, which every worker on every machine reaches over the network.

The same functions as storage.py, chosen with CHEEPER_DB=redis://host:6379/0.
A cheep's id is its place in the list: 1, 2, 3 and so on. Pushing onto a list
returns that place, so no two workers ever get the same id. A hash remembers the
id of each key, so that a key is stored once.

A cheep the instructor removes stays in its place, emptied and marked removed
(ids are places: the list cannot close up), and its key stays stored. Starting
afresh hides every cheep at once, in one step however many there are: the ids
up to that moment are never read again (their items stay in the list, unread).
Each removal is pushed onto a second list, whose places number them in order.
"""

import json
import os
from datetime import datetime, timezone

import redis

import redis_client

KEY = "cheeper:cheeps"
IDS_BY_KEY = "cheeper:keys"  # a hash: a cheep's key -> its id
REMOVALS = "cheeper:removals"  # a list: {"id": ...} for one cheep, {"up_to": ...} for all so far
GONE_UP_TO = "cheeper:gone-up-to"  # every cheep up to this id was removed at once (start afresh)
Unavailable = redis.RedisError  # raised when Redis cannot be reached

db = redis_client.connect(os.environ["CHEEPER_DB"], decode_responses=True)


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


def save_cheep(name, cheep, key=None, address=None):
    """Store a cheep; return it with its id, and True. A key stored before stores
    nothing: that returns the cheep stored with it (with "removed": True, if the
    instructor removed it), and False."""
    time = datetime.now(timezone.utc).isoformat(timespec="seconds")
    stored = {"name": name, "cheep": cheep, "time": time}
    if key is not None:
        stored["key"] = key
    if address is not None:
        stored["address"] = address
    if key is None:
        cheep_id = db.rpush(KEY, json.dumps(stored))  # the list's new length: this cheep's place
        return as_cheep(cheep_id, stored), True
    cheep_id, new = SAVE_ONCE(keys=[KEY, IDS_BY_KEY], args=[key, json.dumps(stored)])
    if not new:
        stored = json.loads(db.lindex(KEY, cheep_id - 1))
        if cheep_id <= gone_up_to():
            stored["removed"] = True
    return as_cheep(cheep_id, stored), bool(new)


def as_cheep(cheep_id, stored):
    """A stored item as a cheep. The sender's address stays here: see sender_of()."""
    return {"id": cheep_id, **{field: value for field, value in stored.items() if field != "address"}}


def gone_up_to():
    return int(db.get(GONE_UP_TO) or 0)


def newest_cheeps(limit, before=None):
    """The newest `limit` cheeps (before the id `before`, when given), newest first.
    LRANGE walks the list from its nearer end in blocks of many cheeps, so even
    a page from the middle of 50,000 costs well under a millisecond. Removed
    cheeps are skipped: a page that held some reads on until it has `limit`."""
    newest = db.llen(KEY)  # the id of the newest cheep: ids are places in the list, from 1
    oldest = gone_up_to()  # the ids up to here were all removed at once
    end = newest + 1 if before is None else min(before, newest + 1)  # the page ends before this id
    cheeps = []
    while len(cheeps) < limit and end - 1 > oldest:
        start = max(end - 1 - (limit - len(cheeps)), oldest)  # the list counts from 0: id 1 is at 0
        items = db.lrange(KEY, start, end - 2)
        read = [as_cheep(start + 1 + index, json.loads(item)) for index, item in enumerate(items)]
        cheeps += [cheep for cheep in reversed(read) if not cheep.get("removed")]
        end = start + 1
    return cheeps


def cheeps_since(cheep_id, limit=-1):
    """The cheeps stored after cheep_id, oldest first: the first `limit` of them
    (-1: every one). The list counts from 0, so the cheep after cheep_id is at
    index cheep_id. Removed cheeps are skipped."""
    start = max(cheep_id, gone_up_to())
    cheeps = []
    while limit < 0 or len(cheeps) < limit:
        # Redis takes indexes up to 2**63 - 1 only, and ids go as far.
        end = -1 if limit < 0 else min(start + limit - len(cheeps) - 1, 2**63 - 1)
        items = db.lrange(KEY, start, end)
        if not items:
            break
        read = [as_cheep(start + 1 + index, json.loads(item)) for index, item in enumerate(items)]
        cheeps += [cheep for cheep in read if not cheep.get("removed")]
        start += len(items)
        if limit < 0:
            break  # every one was read at once
    return cheeps


def newest_id():
    return db.llen(KEY)


def sender_of(cheep_id):
    """The name a cheep was sent with, and the address it came from; None when there is no such cheep."""
    if not gone_up_to() < cheep_id <= db.llen(KEY):
        return None
    stored = json.loads(db.lindex(KEY, cheep_id - 1))
    return None if stored.get("removed") else (stored["name"], stored.get("address"))


# Emptying a cheep and writing the removal down happen together, or not at all.
REMOVE = db.register_script("""
local id = tonumber(ARGV[1])
if id <= tonumber(redis.call("GET", KEYS[3]) or "0") then return 0 end
local item = redis.call("LINDEX", KEYS[1], id - 1)
if not item then return 0 end
local cheep = cjson.decode(item)
if cheep.removed then return 0 end
redis.call("LSET", KEYS[1], id - 1, cjson.encode({removed = true, key = cheep.key}))
return redis.call("RPUSH", KEYS[2], ARGV[2])
""")

REMOVE_ALL = db.register_script("""
local up_to = redis.call("LLEN", KEYS[1])
redis.call("SET", KEYS[3], up_to)
return {redis.call("RPUSH", KEYS[2], cjson.encode({up_to = up_to})), up_to}
""")


def remove_cheep(cheep_id):
    """Empty a cheep and mark it removed; return the removal ({"seq", "id"}), or
    None when there is no such cheep to remove."""
    if cheep_id > db.llen(KEY):  # past the newest (and past what Redis's numbers hold exactly)
        return None
    seq = REMOVE(keys=[KEY, REMOVALS, GONE_UP_TO], args=[cheep_id, json.dumps({"id": cheep_id})])
    return {"seq": seq, "id": cheep_id} if seq else None


def remove_all():
    """Empty every cheep stored so far (a new workshop); return the removal ({"seq", "up_to"})."""
    seq, up_to = REMOVE_ALL(keys=[KEY, REMOVALS, GONE_UP_TO])
    return {"seq": seq, "up_to": up_to}


def removals_since(seq):
    """The removals after the one numbered seq, oldest first."""
    return [{"seq": seq + 1 + index, **json.loads(item)} for index, item in enumerate(db.lrange(REMOVALS, seq, -1))]


def newest_removal():
    return db.llen(REMOVALS)
