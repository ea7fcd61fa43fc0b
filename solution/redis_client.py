"""The one way Cheeper connects to Redis (redis_storage.py, relay.py): without retries.

redis-py can send a command again by itself when a connection drops. Cheeper's
must not: a cheep pushed again after its answer was lost would be stored twice,
and the relay must see a lost connection, to catch up on what was published
while it was away. So a lost connection raises redis.RedisError at once.
"""

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def connect(url, **options):
    """A client of the Redis at `url`. At most 32 connections at once, however many
    requests wait: they come out of the open files the server keeps in reserve
    (FILES_IN_RESERVE, in limits.py)."""
    pool = redis.BlockingConnectionPool.from_url(
        url, max_connections=32, timeout=5, retry=Retry(NoBackoff(), 0), **options
    )
    return redis.Redis(connection_pool=pool)
