#!/usr/bin/python3
# client.py: drives ws-echo-server with python3-websockets and checks every echo
#
# Usage: client.py URL [--ca-file FILE]. Prints one "ok ..." line per check
# and "ALL OK" at the end; on the first mismatch prints "FAIL ..." and
# exits 1.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import argparse
import asyncio
import ssl
import sys

import websockets

TIMEOUT = 20


def fail(what):
    print(f"FAIL {what}", flush=True)
    sys.exit(1)


def ok(what):
    print(f"ok {what}", flush=True)


def closed_code(exc):
    # websockets >= 10 records the received close frame in .rcvd.
    rcvd = getattr(exc, "rcvd", None)
    return rcvd.code if rcvd is not None else getattr(exc, "code", None)


async def expect_echo(ws, message, what):
    await ws.send(message)
    echo = await asyncio.wait_for(ws.recv(), TIMEOUT)
    if isinstance(message, (list, tuple)):
        message = message[0][:0].join(message)
    if type(echo) is not type(message) or echo != message:
        fail(f"{what}: got {type(echo).__name__} of {len(echo)}, "
             f"expected {type(message).__name__} of {len(message)}")
    ok(what)


async def round_trips(url, ssl_context):
    async with websockets.connect(url, subprotocols=["gochat.v1"], ssl=ssl_context,
                                  open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
        if ws.subprotocol != "gochat.v1":
            fail(f"subprotocol {ws.subprotocol!r}")
        ok("subprotocol gochat.v1")

        await expect_echo(ws, "héllo wörld ✓", "text")
        await expect_echo(ws, "", "empty text")
        await expect_echo(ws, bytes(range(256)), "binary")
        await expect_echo(ws, b"", "empty binary")
        await expect_echo(ws, "x" * 65536, "text 65536")
        await expect_echo(ws, bytes(i % 251 for i in range(65536)), "binary 65536")
        # An iterable is sent as one fragmented message.
        await expect_echo(ws, ["frag", "mented ", "✓ message"], "fragmented text")
        await expect_echo(ws, [b"\x00\x01", b"", b"\xff" * 1000], "fragmented binary")

        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, TIMEOUT)
        ok("ping answered")

        await ws.close(1000, "done")
        if ws.close_code != 1000:
            fail(f"close code {ws.close_code}")
        ok("close 1000")


async def too_big(url, ssl_context):
    async with websockets.connect(url, ssl=ssl_context, open_timeout=TIMEOUT,
                                  close_timeout=TIMEOUT) as ws:
        await ws.send(b"\x00" * 65537)
        try:
            message = await asyncio.wait_for(ws.recv(), TIMEOUT)
            fail(f"65537-byte message echoed ({len(message)} bytes)")
        except websockets.ConnectionClosed as exc:
            code = closed_code(exc)
            if code != 1009:
                fail(f"65537-byte message: close code {code}")
        ok("close 1009")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--ca-file")
    args = parser.parse_args()

    ssl_context = None
    if args.url.startswith("wss:"):
        ssl_context = ssl.create_default_context(cafile=args.ca_file)

    await asyncio.wait_for(round_trips(args.url, ssl_context), 2 * TIMEOUT)
    await asyncio.wait_for(too_big(args.url, ssl_context), 2 * TIMEOUT)
    print("ALL OK", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
