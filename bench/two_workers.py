"""The solution as a deployment runs it (docs/many-workers.md): 2 gunicorn
workers, one port, sharing cheeps through a real redis-server. For the
benchmark (bench/fanout.py), which measures it against one worker.

The clients connect straight to gunicorn's port, with no nginx in front: nginx
would add its own CPU and a hop for every frame, and the question here is what
a second worker adds. Both workers accept on the one port, so the operating
system decides which worker gets each client; the benchmark says how they split.
"""

import sys
import time

import psutil

from server_process import ServerProcess
from services import RedisServer
from waits import START_TIMEOUT

CHANNEL = "cheeper:new-cheeps"  # where each worker of the solution listens (solution/relay.py)


class Gunicorn(ServerProcess):
    """`python -m gunicorn -c gunicorn.conf.py` in the solution's folder, as
    `make solution-prod` runs it."""

    def command(self):
        return [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"], self.app_dir

    def workers(self):
        return psutil.Process(self.process.pid).children()

    def kill(self):
        workers = self.workers()  # before their master goes: they would be left running
        super().kill()
        for worker in workers:
            worker.kill()


class TwoWorkers:
    """redis-server, and gunicorn with 2 workers using it; kill() stops both."""

    def __init__(self, folder, database, scratch, settings):
        self.redis = RedisServer(scratch).start()
        env = {**settings, "WORKERS": "2", "CHEEPER_REDIS_URL": self.redis.url}
        self.gunicorn = Gunicorn(folder, database, env=env).start()
        self.process, self.port, self.url = self.gunicorn.process, self.gunicorn.port, self.gunicorn.url
        self.wait_for_both_workers()

    def wait_for_both_workers(self):
        """gunicorn answers once one worker is up. Each worker, once started, listens on
        Redis's channel: two listeners there mean both will take clients."""
        deadline = time.monotonic() + START_TIMEOUT
        while self.redis.client.pubsub_numsub(CHANNEL)[0][1] < 2:
            if time.monotonic() > deadline:
                raise RuntimeError(f"Only one gunicorn worker listened on Redis within {START_TIMEOUT} s.")
            time.sleep(0.05)

    def split(self):
        """How many connections each worker holds, "2,501 / 2,500"."""
        counts = [
            sum(
                1
                for c in worker.net_connections("tcp")
                if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == self.port
            )
            for worker in self.gunicorn.workers()
        ]
        return " / ".join(f"{count:,}" for count in counts)

    def kill(self):
        self.gunicorn.kill()
        self.redis.stop()
