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
from collections import OrderedDict

import gevent
import redis
from gevent.queue import Full, Queue
from redis.backoff import NoBackoff
from redis.retry import Retry

import broadcasting

CHANNEL = "cheeper:cheeps"
REMEMBERED = 10_000  # ids of the newest cheeps this worker sent to its pages
PUBLISH_LIMIT = 1_000  # cheeps waiting to be published while Redis is away
LONGEST_WAIT = 30  # seconds between two attempts to reach Redis, at most

log = logging.getLogger("cheeper")


class Relay:
    def __init__(self, url, storage):
        self.url = url
        # No retries inside redis-py: a lost connection must reach this code,
        # which then catches up on what was published meanwhile.
        self.redis = redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=5)
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
        except Full:
            pass  # Redis has been away long: the others will read it from storage

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
                    self.send_to_my_pages(json.loads(message["data"]))
            except redis.RedisError as error:
                log.warning("Lost Redis (%s). This worker's pages still get its own cheeps.", error)
            except (ValueError, KeyError, TypeError):  # something else published on the channel
                log.exception("Not a cheep on the Redis channel %s; listening again.", CHANNEL)
            finally:
                listening.close()

    def subscribe(self):
        listening = self.redis.pubsub(ignore_subscribe_messages=True)
        listening.subscribe(CHANNEL)
        listening.get_message(timeout=5)  # Redis confirms: from now on nothing published is missed
        # What was stored while this worker was not listening, since the oldest
        # cheep it remembers; the ones its pages had already are skipped.
        for cheep in self.storage.cheeps_since(min(self.sent)):
            self.send_to_my_pages(cheep)
        return listening

    def keep_trying(self, action, problem):
        """Call action() until it works; while Redis is away, wait 1, 2, 4 … 30 s between tries."""
        wait = 1
        while True:
            try:
                return action()
            except (redis.RedisError, self.storage.Unavailable) as error:
                log.warning("%s (%s). Trying again in %d s.", problem, error, wait)
                gevent.sleep(wait)
                wait = min(2 * wait, LONGEST_WAIT)
