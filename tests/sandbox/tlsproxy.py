#!/usr/bin/python3
"""A TLS front for the sandbox's plain servers, as a load balancer ends TLS for an app.

    tlsproxy.py CERT KEY BACKEND_PORT PORT_FILE

Listens on 127.0.0.1 at a port the kernel picks (written to PORT_FILE), ends TLS with
CERT and KEY (PEM), and relays each connection's bytes both ways to 127.0.0.1:BACKEND_PORT."""
import asyncio
import os
import ssl
import sys

CERT, KEY, BACKEND, PORT_FILE = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def relay(client_reader, client_writer):
    try:
        backend_reader, backend_writer = await asyncio.open_connection("127.0.0.1", BACKEND)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, backend_writer), pipe(backend_reader, client_writer))


async def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(CERT, KEY)
    server = await asyncio.start_server(relay, "127.0.0.1", 0, ssl=ctx)
    port = server.sockets[0].getsockname()[1]
    with open(PORT_FILE + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(PORT_FILE + ".tmp", PORT_FILE)
    async with server:
        await server.serve_forever()


asyncio.run(main())
