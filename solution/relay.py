"""Every cheep to every page on every worker, through Redis pub/sub.

Used when CHEEPER_REDIS_URL is set, to run several copies of Cheeper (workers)
side by side, on one machine or several, behind one address.

A worker sends a cheep it stored to its own pages at once, as before, and
publishes it on a Redis channel; every other worker hears it there and sends it
to its pages. Redis forwards a message only to the workers listening at that
moment, so a worker that lost Redis for a while reads what it missed from
storage when it is back. Its own pages go on getting its own cheeps meanwhile.
"""
import json
import logging
import random
from collections import OrderedDict

import gevent
import redis
from gevent.queue import Full, Queue
from redis.backoff import NoBackoff
from redis.retry import Retry

import broadcasting

# Pub/sub channels are shared by all of a Redis's databases: two Cheepers on one
# Redis need two channel names.
CHANNEL = "cheeper:new-cheeps"
REMEMBERED = 10_000  # ids of the newest cheeps this worker sent to its pages
PUBLISH_LIMIT = 1_000  # cheeps waiting to be published while Redis is away
LONGEST_WAIT = 30  # seconds between two attempts to reach Redis, at most

log = logging.getLogger("cheeper")


class Relay:
    def __init__(self, url, storage):
        self.url = url
        # No retries inside redis-py: a lost connection must reach this code,
        # which then catches up on what was published meanwhile.
        self.redis = redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0))
        self.storage = storage
        self.sent = OrderedDict()  # ids of cheeps sent to this worker's pages, oldest first
        self.to_publish = Queue(PUBLISH_LIMIT)
        gevent.spawn(self.publish_forever)
        gevent.spawn(self.listen_forever)

    def broadcast(self, cheep):
        """Send a cheep this worker stored to every page, on every worker."""
        self.send_to_my_pages(cheep)
        try:
            self.to_publish.put_nowait(cheep)
        except Full:  # Redis has been away long; the others read it from storage when it is back
            log.warning("Not published: %d cheeps are waiting for Redis already.", PUBLISH_LIMIT)

    def send_to_my_pages(self, cheep):
        """Send a cheep to this worker's pages, unless they have had it already."""
        if cheep["id"] not in self.sent:
            self.remember(cheep["id"])
            broadcasting.broadcast(cheep)

    def remember(self, cheep_id):
        self.sent[cheep_id] = True
        if len(self.sent) > REMEMBERED:
            self.sent.popitem(last=False)

    def publish_forever(self):
        while True:
            cheep = self.to_publish.peek()  # taken off the queue only once published
            self.keep_trying(lambda: self.redis.publish(CHANNEL, json.dumps(cheep)), "Cannot publish to Redis")
            self.to_publish.get()

    def listen_forever(self):
        # Pages that load now get every cheep stored so far with the page.
        self.keep_trying(lambda: self.remember(self.storage.newest_id()), "Cannot reach the storage")
        while True:
            listening = self.keep_trying(self.subscribe, "Cannot reach Redis")
            log.info("Sharing cheeps with the other workers through Redis at %s.", self.url)
            try:
                for message in listening.listen():
                    if message["type"] == "message":
                        self.hear(message["data"])
            except redis.RedisError as error:
                log.warning("Lost Redis (%s). This worker's pages still get its own cheeps.", error)
            finally:
                listening.close()

    def hear(self, data):
        """Send on a cheep published by a worker; skip anything else on the channel."""
        try:
            cheep = json.loads(data)
        except ValueError:
            cheep = None
        if isinstance(cheep, dict) and type(cheep.get("id")) is int and {"name", "cheep", "time"} <= cheep.keys():
            self.send_to_my_pages(cheep)
        else:
            log.warning("Not a cheep on the Redis channel %s, skipped: %r", CHANNEL, data[:80])

    def subscribe(self):
        listening = self.redis.pubsub()
        try:
            listening.subscribe(CHANNEL)
            confirmed = listening.get_message(timeout=5)
            if not confirmed or confirmed["type"] != "subscribe":
                raise redis.TimeoutError("Redis did not confirm the subscription.")
            # Listening from now on. What was stored while this worker was not
            # listening comes from storage: the cheeps since the oldest one it
            # remembers, skipping those its pages had already.
            for cheep in self.storage.cheeps_since(min(self.sent)):
                self.send_to_my_pages(cheep)
        except BaseException:
            listening.close()
            raise
        return listening

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

