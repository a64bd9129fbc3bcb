"""A WebSocket echo server (Debian's python3-websockets) for tests/stack/websocket.sh.

Listens on 127.0.0.1, an ephemeral port, prints the port on one line and echoes every message,
text or binary, until it is stopped. The path it was reached on comes back as a first message,
so the test sees the proxy's rewritten target.
"""
import asyncio

import websockets


async def echo(ws, path=None):
    await ws.send("path " + (path if path is not None else ws.path))
    async for message in ws:
        await ws.send(message)


async def main():
    async with websockets.serve(echo, "127.0.0.1", 0) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()


asyncio.run(main())
