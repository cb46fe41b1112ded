"""``api.protocol.NoDelayHTTP`` switches Nagle off on the connections of a socket shared the way
``uvicorn --workers N`` shares it (created without ``proto=IPPROTO_TCP``, so asyncio leaves it on).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import uvicorn

from api.protocol import NoDelayHTTP

SEEN: list[int] = []


class Recording(NoDelayHTTP):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        SEEN.append(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def test_connections_of_a_shared_worker_socket_get_tcp_nodelay():
    sock = socket.socket(family=socket.AF_INET)  # as uvicorn's Config.bind_socket makes it
    sock.bind(("127.0.0.1", 0))
    assert sock.proto == 0
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, http=Recording, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        with httpx.Client() as c:  # one keep-alive connection, two requests
            assert c.get(f"http://127.0.0.1:{port}/").text == "ok"
            assert c.get(f"http://127.0.0.1:{port}/").text == "ok"
    finally:
        server.should_exit = True
        thread.join(10)
    assert SEEN and all(v != 0 for v in SEEN), SEEN
