"""How long the tests wait, each wait named once.

On this computer's own network a message takes milliseconds: these waits are
generous, so that a busy machine passes too. A test whose promise is kept never
waits one out, except QUIET, which it listens through to be sure nothing comes.

Sockets, requests and time.monotonic() count seconds; Playwright, which drives
the browser tests, counts milliseconds.
"""

# Seconds
WAIT = 3  # a message that should come on a socket, or an answer over HTTP
QUIET = 0.5  # listened through, to be sure that no message (or no more) comes
LONG_WAIT = 10  # something slower: a crowd's handshake, an attack that starts or stops, a whole answer
RESUME = 20  # a worker finds Redis again: it tries after 1, 2, 4 … s
START_TIMEOUT = 20  # a server starts: a cold laptop imports gevent and Flask slowly
STOP_TIMEOUT = 10  # a server stops after Ctrl+C

# Milliseconds, for Playwright
ARRIVES = 2000  # a live cheep shows in every window
BACK = 15000  # a page finds a restarted server, or the network, again: its retries back off
