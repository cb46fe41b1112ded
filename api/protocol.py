"""uvicorn's HTTP protocol as ``nrw-sites serve`` runs it (kept apart from api/traffic.py: the
serving parent imports this one alone, without FastAPI, before it starts the workers)."""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class NoDelayHTTP(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol (httptools) with ``TCP_NODELAY`` on every connection.

    asyncio sets it only on sockets created with ``proto=IPPROTO_TCP``; the listening socket
    that ``uvicorn --workers N`` shares between its workers is created without, so each answer
    written in two parts (head, then body) waited for the client's delayed ACK (Nagle): about
    45 ms per keep-alive request instead of 1-2 ms (bench/load.py, 2 workers).
    """

    # override: uvicorn's own signature narrows asyncio's BaseTransport to Transport as well
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Set TCP_NODELAY on the connection's socket, then let uvicorn take over."""
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
