"""Every cheep to every page on every worker, through Redis pub/sub.

Used when CHEEPER_REDIS_URL is set, to run several copies of Cheeper (workers)
side by side, on one machine or several, behind one address.

A worker sends a cheep it stored to its own pages at once, as before, and
publishes it on a Redis channel; every other worker hears it there and sends it
to its pages. Redis forwards a message only to the workers listening at that
moment, so a worker that lost Redis for a while reads what it missed from
storage when it is back. Its own pages go on getting its own cheeps meanwhile.
The instructor's removals, mutes and the room's progress travel the same way.
"""

import json
import logging
import random
import secrets
from collections import OrderedDict

import gevent
import redis
from gevent.queue import Full, Queue

import broadcasting
import instructor
import protocol
import redis_client

# Pub/sub channels are shared by all of a Redis's databases: two Cheepers on one
# Redis need two channel names.
CHANNEL = "cheeper:new-cheeps"
# With several workers, Redis also keeps the mutes and the board (instructor.py),
# so that a worker that starts late, or lost Redis for a while, learns of them.
MUTED = "cheeper:muted"  # a hash: "name:ada" or "address:10.0.0.3" -> the "muted" message
BOARD = "cheeper:board"  # a hash: learner -> their latest "progress" message
REMEMBERED = 10_000  # ids of the newest cheeps this worker sent to its pages
PUBLISH_LIMIT = 1_000  # messages waiting to be published while Redis is away
LONGEST_WAIT = 30  # seconds between two attempts to reach Redis, at most

log = logging.getLogger("cheeper")


class Relay:
    def __init__(self, url, storage):
        self.url = url
        self.redis = redis_client.connect(url)
        self.storage = storage
        self.name = secrets.token_hex(8)  # so that this worker knows its own messages when Redis brings them back
        self.sent = OrderedDict()  # ids of cheeps sent to this worker's pages, oldest first
        self.newest_removal = 0  # the seq of the newest removal this worker's pages heard of
        self.removed = set()  # ids of cheeps removed since this worker started
        self.gone_up_to = 0  # cheeps up to this id were removed all at once (start afresh)
        self.to_publish = Queue(PUBLISH_LIMIT)

    def start(self):
        """Start publishing this worker's messages to Redis, and listening for the others'."""
        gevent.spawn(self.publish_forever)
        gevent.spawn(self.listen_forever)

    def broadcast(self, cheep):
        """Send a cheep this worker stored to every page, on every worker."""
        self.send_to_my_pages(cheep)
        self.publish(protocol.cheep_message(cheep))

    def announce(self, message):
        """A removal, a mute or a report, on every worker."""
        self.announce_to_my_pages(message)
        self.publish(message)

    def publish(self, message):
        try:
            self.to_publish.put_nowait({"worker": self.name, "message": message})
        except Full:  # Redis has been away long; the others read cheeps and removals from storage when it is back
            log.warning("Not published: %d messages are waiting for Redis already.", PUBLISH_LIMIT)

    def announce_to_my_pages(self, message):
        if message["type"] == "removed":
            self.removed.add(message["id"])
        elif message["type"] == "cleared":
            self.gone_up_to = max(self.gone_up_to, message["up_to"])
        if message["type"] in ("removed", "cleared"):
            self.newest_removal = max(self.newest_removal, message["seq"])
        broadcasting.announce(message)

    def send_to_my_pages(self, cheep):
        """Send a cheep to this worker's pages, unless they have had it already, or
        it was removed meanwhile (its worker may have published it late, after Redis came back)."""
        if cheep["id"] not in self.sent and cheep["id"] not in self.removed and cheep["id"] > self.gone_up_to:
            self.remember(cheep["id"])
            broadcasting.broadcast(cheep)

    def remember(self, cheep_id):
        self.sent[cheep_id] = True
        if len(self.sent) > REMEMBERED:
            self.sent.popitem(last=False)

    def publish_forever(self):
        while True:
            published = self.to_publish.peek()  # taken off the queue only once published
            self.keep_trying(lambda: self.publish_now(published), "Cannot publish to Redis")
            self.to_publish.get()

    def publish_now(self, published):
        """Publish a message; a mute or a report is also kept in Redis, at the same time."""
        message = published["message"]
        together = self.redis.pipeline()  # a transaction: all of it, or none
        if message["type"] == "muted":
            together.hset(MUTED, f"{message['what']}:{message['value']}", json.dumps(message))
        elif message["type"] == "unmuted":
            together.hdel(MUTED, f"{message['what']}:{message['value']}")
        elif message["type"] == "progress":
            together.hset(BOARD, message["learner"], json.dumps(message))
        elif message["type"] == "cleared":  # a new workshop: nobody muted, an empty board
            together.delete(MUTED, BOARD)
        together.publish(CHANNEL, json.dumps(published))
        together.execute()

    def listen_forever(self):
        # Pages that load from now on get every cheep stored so far with the page:
        # this worker's pages need only the cheeps after the newest stored now.
        self.keep_trying(self.start_from_the_newest, "Cannot reach the storage")
        while True:
            # What was stored while this worker was not listening is read from storage,
            # from the smallest id it remembers (other workers' cheeps come out of
            # order). There is one: start_from_the_newest() remembered the newest.
            catch_up_from = min(self.sent)
            listening = self.keep_trying(lambda: self.subscribe(catch_up_from), "Cannot reach Redis")
            log.info("Sharing cheeps with the other workers through Redis at %s.", self.url)
            try:
                for message in listening.listen():
                    if message["type"] == "message":
                        self.hear(message["data"])
            except redis.RedisError as error:
                log.warning("Lost Redis (%s). This worker's pages still get its own cheeps.", error)
            finally:
                listening.close()

    def start_from_the_newest(self):
        """Note the newest cheep and removal stored now, as if this worker's pages had
        had them: their pages have them already, or will with the page."""
        self.remember(self.storage.newest_id())  # 0 when none is stored yet: every cheep is after it
        self.newest_removal = self.storage.newest_removal()

    def hear(self, data):
        """Pass on a message published by another worker; skip anything else on the channel."""
        try:
            published = json.loads(data)
        except ValueError:
            published = None
        if not (isinstance(published, dict) and protocol.is_server_message(published.get("message"))):
            log.warning("Not a message of Cheeper's on the Redis channel %s, skipped: %r", CHANNEL, data[:80])
            return
        message = published["message"]
        if published.get("worker") == self.name:
            return  # this worker's own: its pages have it already
        if message["type"] == "cheep":
            self.send_to_my_pages({field: value for field, value in message.items() if field != "type"})
        else:
            self.announce_to_my_pages(message)

    def subscribe(self, catch_up_from):
        """Listen on the channel; then send this worker's pages what they missed
        meanwhile: the cheeps stored after the id catch_up_from that they have not
        had, the removals, the mutes and the board."""
        listening = self.redis.pubsub()
        try:
            listening.subscribe(CHANNEL)
            confirmed = listening.get_message(timeout=5)
            if not confirmed or confirmed["type"] != "subscribe":
                raise redis.TimeoutError("Redis did not confirm the subscription.")
            # Listening from now on. What was stored while this worker was not
            # listening comes from storage, skipping what its pages had already;
            # the mutes and the board, from Redis.
            for cheep in self.storage.cheeps_since(catch_up_from):
                self.send_to_my_pages(cheep)
            for removal in self.storage.removals_since(self.newest_removal):
                self.announce_to_my_pages(protocol.removal_message(removal))
            self.catch_up_on_mutes_and_the_board()
        except BaseException:
            listening.close()
            raise
        return listening

    def catch_up_on_mutes_and_the_board(self):
        """The mutes and the board as Redis keeps them, told to this worker's
        instructor's pages, as if it had heard each message."""
        muted, board = read_kept(self.redis.hvals(MUTED)), read_kept(self.redis.hvals(BOARD))
        still_muted = {(message["what"], message["value"]) for message in muted}
        for what, values in instructor.muted.items():
            for value in [value for value in values if (what, value) not in still_muted]:
                self.announce_to_my_pages({"type": "unmuted", "what": what, "value": value})
        for message in muted + board:
            self.announce_to_my_pages(message)

    def keep_trying(self, action, problem):
        """Call action() until it works; while Redis is away, wait 1, 2, 4 … 30 s between tries."""
        wait = 1
        while True:
            try:
                return action()
            except (redis.RedisError, self.storage.Unavailable) as error:
                # A random part, so that many workers that lost Redis together
                # do not all come back to it at the same moment.
                pause = wait * random.uniform(0.5, 1)
                log.warning("%s (%s). Trying again in %.1f s.", problem, error, pause)
                gevent.sleep(pause)
                wait = min(2 * wait, LONGEST_WAIT)


def read_kept(items):
    """The messages kept in a Redis hash; anything else there is skipped."""
    messages = []
    for item in items:
        try:
            message = json.loads(item)
        except ValueError:
            continue
        if protocol.is_server_message(message):
            messages.append(message)
    return messages
