#!/usr/bin/python3
# server.py: a python3-websockets server that drives ws-echo-client
#
# Usage: server.py [--cert FILE --key FILE]. Listens on 127.0.0.1, prints
# "listening on PORT", serves ONE connection: sends text, binary, large and
# fragmented messages and a ping, checks each echo, closes with 1000 and
# checks the client's answer. Prints "ok ..." per check and "ALL OK", or
# "FAIL ..." and exits 1.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import argparse
import asyncio
import ssl
import sys

import websockets

TIMEOUT = 20


class Failure(Exception):
    pass


def ok(what):
    print(f"ok {what}", flush=True)


async def expect_echo(ws, message, what):
    await ws.send(message)
    echo = await asyncio.wait_for(ws.recv(), TIMEOUT)
    if isinstance(message, (list, tuple)):
        message = message[0][:0].join(message)
    if type(echo) is not type(message) or echo != message:
        raise Failure(f"{what}: got {type(echo).__name__} of {len(echo)}, "
                      f"expected {type(message).__name__} of {len(message)}")
    ok(what)


async def drive(ws):
    if ws.subprotocol != "gochat.v1":
        raise Failure(f"subprotocol {ws.subprotocol!r}")
    ok("subprotocol gochat.v1")

    await expect_echo(ws, "héllo wörld ✓", "text")
    await expect_echo(ws, "", "empty text")
    await expect_echo(ws, bytes(range(256)), "binary")
    await expect_echo(ws, "y" * 100000, "text 100000")
    await expect_echo(ws, bytes(i % 253 for i in range(1 << 20)), "binary 1 MiB")
    await expect_echo(ws, ["frag", "mented ", "✓ message"], "fragmented text")
    await expect_echo(ws, [b"\x00\x01", b"", b"\xff" * 70000], "fragmented binary")

    pong = await ws.ping(b"are you there")
    await asyncio.wait_for(pong, TIMEOUT)
    ok("ping answered")

    await ws.close(1000, "bye")
    if ws.close_code != 1000:
        raise Failure(f"client answered close with {ws.close_code}")
    ok("close 1000")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()

    ssl_context = None
    if args.cert:
        ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ssl_context.load_cert_chain(args.cert, args.key)

    loop = asyncio.get_running_loop()
    outcome = loop.create_future()

    async def handler(ws):
        try:
            await drive(ws)
            if not outcome.done():
                outcome.set_result(None)
        except Exception as exc:
            if not outcome.done():
                outcome.set_exception(exc)

    async with websockets.serve(handler, "127.0.0.1", 0, ssl=ssl_context,
                                subprotocols=["gochat.v1"],
                                max_size=2 << 20, close_timeout=TIMEOUT) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on {port}", flush=True)
        try:
            await asyncio.wait_for(outcome, 3 * TIMEOUT)
        except (Failure, asyncio.TimeoutError, websockets.ConnectionClosed) as exc:
            print(f"FAIL {type(exc).__name__}: {exc}", flush=True)
            sys.exit(1)

    print("ALL OK", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
