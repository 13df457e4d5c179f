#!/usr/bin/python3
# server_chat.py: two python3-websockets clients chat through a real gochat-server
#
# Usage: server_chat.py PATH-TO-GOCHAT-SERVER. Starts the server on
# 127.0.0.1 with a port the system picks (read from its "listening on
# ADDRESS:PORT" line), joins two third-party clients to one room, has them
# exchange messages, then one leaves. Prints TAP.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import asyncio
import json
import signal
import subprocess
import sys
import threading
import urllib.parse

import websockets

TIMEOUT = 10

checks = []
# The server's log is echoed from a thread: one lock keeps its lines and the
# TAP lines whole, or TAP parsing sees "...reason=leftok 14".
print_lock = threading.Lock()


def say(line):
    with print_lock:
        print(line, flush=True)


def ok(condition, what):
    checks.append((bool(condition), what))
    say(f"{'ok' if condition else 'not ok'} {len(checks)} - {what}")
    if not condition:
        raise AssertionError(what)


def start_server(path):
    server = subprocess.Popen([path, "--bind=127.0.0.1", "--port=0"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in server.stderr:
        say(f"# server: {line.rstrip()}")
        if line.startswith("listening on "):
            port = int(line.rsplit(":", 1)[1])
            break
    else:
        raise RuntimeError("gochat-server exited before listening")

    # Keep draining its log so it never blocks on a full pipe.
    def drain():
        for rest in server.stderr:
            say(f"# server: {rest.rstrip()}")

    threading.Thread(target=drain, daemon=True).start()
    return server, port


def join_url(port, room, name):
    query = urllib.parse.urlencode({"room_code": room, "user_name": name})
    return f"ws://127.0.0.1:{port}/joinRoom?{query}"


async def recv_event(ws, wanted):
    """The next event of type `wanted`, skipping others (e.g. typing)."""
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if event["type"] == wanted:
            return event


async def chat(port):
    async with websockets.connect(join_url(port, "Interop", "alice"),
                                  subprotocols=["gochat.v1"],
                                  open_timeout=TIMEOUT) as alice:
        ok(alice.subprotocol == "gochat.v1", "the server selects gochat.v1")
        welcome_a = json.loads(await asyncio.wait_for(alice.recv(), TIMEOUT))
        ok(welcome_a["type"] == "welcome" and welcome_a["protocol"] == 1,
           "alice's first event is a protocol 1 welcome")
        ok(welcome_a["room"] == "interop", "the room code is canonical lower case")
        alice_user = welcome_a["you"]
        ok(alice_user["name"] == "alice" and isinstance(alice_user["id"], str),
           "alice is herself, with a string id")

        bob = await websockets.connect(join_url(port, "INTEROP", "bob"),
                                       subprotocols=["gochat.v1"], open_timeout=TIMEOUT)
        welcome_b = json.loads(await asyncio.wait_for(bob.recv(), TIMEOUT))
        bob_user = welcome_b["you"]
        ok(welcome_b["type"] == "welcome"
           and sorted(m["id"] for m in welcome_b["members"])
           == sorted([alice_user["id"], bob_user["id"]]),
           "bob's welcome lists alice and bob")

        join = await recv_event(alice, "join")
        ok(join["user"] == bob_user, "alice sees bob join")

        await alice.send(json.dumps({"type": "message", "text": "hi bob", "client_id": "a-1"}))
        for who, ws in (("alice", alice), ("bob", bob)):
            message = await recv_event(ws, "message")
            ok(message["text"] == "hi bob" and message["from"] == alice_user
               and message["client_id"] == "a-1" and message["kind"] == "text",
               f"{who} gets alice's message with its client_id")
        first_id = message["id"]

        await bob.send(json.dumps({"type": "typing", "active": True}))
        typing = await recv_event(alice, "typing")
        ok(typing["user"] == bob_user and typing["active"] is True, "alice sees bob typing")

        await bob.send(json.dumps({"type": "message", "text": "waves", "kind": "emote"}))
        for who, ws in (("alice", alice), ("bob", bob)):
            message = await recv_event(ws, "message")
            ok(message["text"] == "waves" and message["from"] == bob_user
               and message["kind"] == "emote" and "client_id" not in message
               and message["id"] > first_id,
               f"{who} gets bob's emote, with a larger id and no client_id")

        # A fragmented text message is one request.
        await bob.send(iter(['{"type":"message",', '"text":"in pieces"}']))
        message = await recv_event(alice, "message")
        ok(message["text"] == "in pieces", "a fragmented request is reassembled")

        await bob.send("not json")
        error = await recv_event(bob, "error")
        ok(error["code"] == "bad_request", "bob gets error bad_request for non-JSON")

        await bob.close()
        leave = await recv_event(alice, "leave")
        ok(leave["user"] == bob_user and leave["reason"] == "left",
           "alice sees bob leave with reason left")
        ok(bob.close_code == 1000, "bob's clean close is answered with 1000")


def main():
    server, port = start_server(sys.argv[1])
    say("1..16")
    try:
        asyncio.run(chat(port))
    except AssertionError:
        pass
    except Exception as error:  # noqa: BLE001 -- report anything as a failed check
        ok(False, f"chat raised {error!r}")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            status = server.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            server.kill()
            status = None
    try:
        ok(status == 0, "gochat-server exits 0 on SIGTERM")
    except AssertionError:
        pass
    return 0 if checks and all(passed for passed, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
