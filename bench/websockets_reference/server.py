"""For comparison in the benchmark: Cheeper's broadcast written with the
websockets library (asyncio) and its own websockets.broadcast(). It stores
nothing and checks nothing: every text message is a cheep for everyone."""

import asyncio
import json
import os
from datetime import datetime, timezone
from itertools import count

from websockets.asyncio.server import broadcast, serve

PORT = int(os.environ.get("PORT", "5000"))
clients = set()
ids = count(1)


async def handler(websocket):
    clients.add(websocket)
    try:
        async for message in websocket:
            data = json.loads(message)
            time = datetime.now(timezone.utc).isoformat(timespec="seconds")
            cheep = {"type": "cheep", "id": next(ids), "name": data["name"], "cheep": data["cheep"], "time": time}
            broadcast(clients, json.dumps(cheep))
    finally:
        clients.discard(websocket)


async def main():
    async with serve(handler, "127.0.0.1", PORT, ping_interval=None, compression=None):
        print(f"websockets reference on port {PORT}", flush=True)
        await asyncio.get_running_loop().create_future()


asyncio.run(main())
