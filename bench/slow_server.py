"""The fan-out benchmark's provider: an OpenAI-style chat endpoint that answers every request after a delay.

    python bench/slow_server.py [--delay 0.5]

One asyncio process that holds thousands of connections at once (a coroutine per connection, a listen backlog
of 16,384, which the kernel caps at net.core.somaxconn, its file-descriptor limit raised to the hard limit), so
the server is never what limits a client's fan-out. Prints its base URL, serves until stdin closes, then prints
one JSON line: requests served, connections accepted, and the peaks of connections open and of requests waiting
for their answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

BODY = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
}).encode()
ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-request-id: req-bench\r\nContent-Length: "
          + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)
stats = {"requests": 0, "connections": 0, "open": 0, "peak_open": 0, "waiting": 0, "peak_waiting": 0}


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    stats["connections"] += 1
    stats["open"] += 1
    stats["peak_open"] = max(stats["peak_open"], stats["open"])
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            stats["requests"] += 1
            stats["waiting"] += 1
            stats["peak_waiting"] = max(stats["peak_waiting"], stats["waiting"])
            try:
                await asyncio.sleep(delay)
            finally:
                stats["waiting"] -= 1
            writer.write(ANSWER)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
        pass
    finally:
        stats["open"] -= 1
        writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.5)
    args = parser.parse_args()
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass
    server = await asyncio.start_server(lambda r, w: serve(r, w, args.delay), "127.0.0.1", 0, backlog=16384)
    print(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    server.close()
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
