#!/usr/bin/env python3
# ws-conformance.py: an Autobahn|Testsuite-style RFC 6455 conformance checker for both roles
#
# SPDX-License-Identifier: GPL-3.0-or-later
"""
Checks a WebSocket echo peer (every text/binary message is echoed with the
same opcode) against RFC 6455, in the style of Autobahn|Testsuite.

Fuzzing-client mode, the peer is a SERVER:
    ws-conformance.py --server-cmd 'ws-echo-server --port 0'
        (started once, must print "listening on N"; restarted if it dies,
        SIGTERMed at the end)
    ws-conformance.py --url ws://127.0.0.1:PORT/

Fuzzing-server mode, the peer is a CLIENT:
    ws-conformance.py --client-cmd 'ws-echo-client {url}'
        (run once per connection; it must exit 0 after a clean close)

Every case uses a fresh connection and hand-made frames. Verdicts are
Autobahn's: OK; NON-STRICT (allowed, but not what RFC 6455 prefers);
INFORMATIONAL (the RFC leaves it open); FAILED (a MUST broken or a wrong
echo). Only FAILED prints "not ok"; the exit status is 1 if any case FAILED.
Output is TAP. Python 3 standard library only.
"""

import argparse
import base64
import binascii
import concurrent.futures
import hashlib
import json
import os
import queue
import random
import re
import select
import shlex
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
OPNAMES = {CONT: "continuation", TEXT: "text", BINARY: "binary",
           CLOSE: "close", PING: "ping", PONG: "pong"}

OK, INFORMATIONAL, NON_STRICT, FAILED = "OK", "INFORMATIONAL", "NON-STRICT", "FAILED"
SEVERITY = {OK: 0, INFORMATIONAL: 1, NON_STRICT: 2, FAILED: 3}

# Autobahn 6.4.x: how long a peer gets to fail on an invalid fragment before
# we send the rest of the message (failing only then is NON-STRICT).
FAIL_FAST_WAIT = 1.0
# Biggest frame we accept from a peer (the largest echo we ask for is 16 MiB).
MAX_PEER_FRAME = 64 * 1024 * 1024

# What a crashed or misbehaving C peer leaves in its output.
TROUBLE_RE = re.compile(rb"ERROR: AddressSanitizer|ERROR: LeakSanitizer|"
                        rb"runtime error:|CRITICAL \*\*|Segmentation fault")


class CaseFailed(Exception):
    pass


def opname(opcode):
    return OPNAMES.get(opcode, "opcode 0x%X" % opcode)


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode("latin-1") + GUID).digest()).decode()


def xor_mask(data, key):
    """RFC 6455 5.3 masking; big-integer XOR keeps 16 MiB payloads fast."""
    n = len(data)
    if n == 0:
        return b""
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(stream, "little")).to_bytes(n, "little")


def encode_frame(opcode, payload=b"", fin=True, rsv=0, mask_key=None, length=None, len_form=None):
    """One frame. rsv is the 3-bit field (4 = RSV1, 2 = RSV2, 1 = RSV3).
    length overrides the declared payload length; len_form forces the
    7-, 16- or 64-bit length encoding."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)
    mbit = 0x80 if mask_key is not None else 0
    if len_form is None:
        len_form = 7 if n < 126 else 16 if n < 65536 else 64
    if len_form == 7:
        head = bytes([b0, mbit | n])
    elif len_form == 16:
        head = bytes([b0, mbit | 126]) + struct.pack("!H", n)
    else:
        head = bytes([b0, mbit | 127]) + struct.pack("!Q", n)
    if mask_key is None:
        return head + payload
    return head + mask_key + xor_mask(payload, mask_key)


def preview(data, limit=24):
    data = bytes(data)
    return repr(data[:limit]) + ("..." if len(data) > limit else "")


def is_utf8(data):
    try:
        bytes(data).decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def is_sendable_code(code):
    """Close codes an endpoint may put on the wire (RFC 6455 7.4, plus the
    IANA-registered 1012-1014)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def tokens(value):
    return {v.strip().lower() for v in value.split(",") if v.strip()}


UTF8_PATTERN = "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!! \u03ba\u1f79\u03c3\u03bc\u03b5 \U0001d11e ".encode()


def text_payload(n):
    """n bytes of valid, mostly multi-byte UTF-8."""
    cut = (UTF8_PATTERN * (n // len(UTF8_PATTERN) + 1))[:n]
    while not is_utf8(cut):
        cut = cut[:-1]
    return cut + b"*" * (n - len(cut))


def binary_payload(n, seed=0):
    return random.Random(n * 7919 + seed).randbytes(n)


# --- frames and connections ---------------------------------------------------

class Frame:
    __slots__ = ("fin", "rsv", "opcode", "masked", "key", "payload", "len_form", "length")


class Event:
    """What the peer did: a complete message, a pong, a close frame, closing
    TCP (eof/reset), or nothing before the deadline (timeout)."""

    def __init__(self, kind, opcode=None, payload=b"", code=None, reason=b"", frames=1):
        self.kind = kind
        self.opcode = opcode
        self.payload = payload
        self.code = code
        self.reason = reason
        self.frames = frames
        self.at = time.monotonic()

    def describe(self):
        if self.kind == "message":
            s = "%s message of %d bytes" % (opname(self.opcode), len(self.payload))
            if self.frames > 1:
                s += " in %d frames" % self.frames
            return s + " " + preview(self.payload)
        if self.kind == "pong":
            return "pong " + preview(self.payload)
        if self.kind == "close":
            if self.code is None:
                return "close frame without a status code"
            s = "close frame %d" % self.code
            return s + (" reason " + preview(self.reason) if self.reason else "")
        if self.kind == "eof":
            return "TCP close (FIN)"
        if self.kind == "reset":
            return "TCP reset"
        return "nothing before the deadline"


class Conn:
    """One upgraded TCP connection, seen from the checker's side."""

    def __init__(self, t, sock, we_are_client, leftover=b""):
        self.t = t
        self.sock = sock
        self.client = we_are_client
        self.peer = "server" if we_are_client else "client"
        self.rbuf = bytearray(leftover)
        self.eof = False
        self.reset = None
        self.broken = None          # why sending failed, if it did
        self.sent_close = False
        self.peer_close = None      # the peer's close Event
        self.frag_op = None
        self.frag_parts = []
        self.mask_keys = []
        self.sent_log = []
        self.event_log = []
        self.closed = False
        sock.setblocking(False)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    # sending

    def recv_some(self):
        try:
            data = self.sock.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.reset = e
            self.eof = True
            return
        if data:
            self.rbuf += data
        else:
            self.eof = True

    def write(self, data, read=True):
        """Sends everything, reading meanwhile (unless read is False) so
        neither side can block the other. A peer that has closed makes this
        return False, not raise."""
        view = memoryview(data)
        while view:
            if self.broken:
                return False
            remaining = self.t.deadline - time.monotonic()
            if remaining <= 0:
                raise CaseFailed("deadline passed with %d bytes still unsent: the %s stopped reading"
                                 % (len(view), self.peer))
            r, w, _ = select.select([] if self.eof or not read else [self.sock], [self.sock], [], remaining)
            if r:
                self.recv_some()
            if w:
                try:
                    n = self.sock.send(view[:262144])
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as e:
                    self.broken = e
                    return False
                view = view[n:]
        return True

    def send_raw(self, data, chop=None, pause=None):
        """Sends data, optionally as separate TCP writes of chop bytes with a
        short pause between them, so the peer sees partial frames."""
        if not chop or chop >= len(data):
            return self.write(data)
        count = (len(data) + chop - 1) // chop
        if pause is None:
            pause = 0.0005 if count <= 400 else 0.0
        for i in range(0, len(data), chop):
            if i and pause:
                time.sleep(pause)
            if not self.write(data[i:i + chop]):
                return False
        return True

    def shutdown_write(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass

    # receiving

    def violate(self, what):
        self.t.violation("the %s %s" % (self.peer, what))

    def parse_frame(self):
        buf = self.rbuf
        if len(buf) < 2:
            return None
        b0, b1 = buf[0], buf[1]
        n = b1 & 0x7F
        pos = 2
        form = 7
        if n == 126:
            if len(buf) < 4:
                return None
            n = struct.unpack_from("!H", buf, 2)[0]
            pos, form = 4, 16
        elif n == 127:
            if len(buf) < 10:
                return None
            n = struct.unpack_from("!Q", buf, 2)[0]
            pos, form = 10, 64
        masked = bool(b1 & 0x80)
        key = None
        if masked:
            if len(buf) < pos + 4:
                return None
            key = bytes(buf[pos:pos + 4])
            pos += 4
        if n > MAX_PEER_FRAME:
            raise CaseFailed("the %s announced a frame of %d bytes (header %s)"
                             % (self.peer, n, preview(buf[:pos])))
        if len(buf) < pos + n:
            return None
        f = Frame()
        f.fin = bool(b0 & 0x80)
        f.rsv = (b0 >> 4) & 7
        f.opcode = b0 & 0xF
        f.masked = masked
        f.key = key
        f.len_form = form
        f.length = n
        payload = bytes(buf[pos:pos + n])
        del buf[:pos + n]
        f.payload = xor_mask(payload, key) if masked else payload
        return f

    def handle_frame(self, f):
        # RFC 6455 5.1: clients mask every frame, servers never do.
        if self.client and f.masked:
            self.violate("sent a masked %s frame (RFC 6455 5.1: a server MUST NOT mask)" % opname(f.opcode))
        if not self.client:
            if f.masked:
                self.mask_keys.append(f.key)
            else:
                self.violate("sent an unmasked %s frame (RFC 6455 5.3: a client MUST mask every frame)"
                             % opname(f.opcode))
        if f.rsv:
            self.violate("set RSV bits 0x%X with no extension negotiated (RFC 6455 5.2)" % (f.rsv << 4))
        if (f.len_form == 16 and f.length < 126) or (f.len_form == 64 and f.length < 65536):
            self.violate("used a non-minimal %d-bit length for %d bytes (RFC 6455 5.2)" % (f.len_form, f.length))
        if self.peer_close is not None:
            self.violate("sent a %s frame after its close frame (RFC 6455 5.5.1)" % opname(f.opcode))
            return None
        op = f.opcode
        if 3 <= op <= 7 or op >= 0xB:
            self.violate("sent reserved opcode 0x%X" % op)
            return None
        if op >= 8:
            if not f.fin or len(f.payload) > 125:
                self.violate("sent a fragmented or >125-byte %s frame (RFC 6455 5.5)" % opname(op))
            if op == PING:
                # Echo peers only ping for keepalive; answer and carry on.
                if not self.sent_close:
                    self.write(encode_frame(PONG, f.payload, mask_key=os.urandom(4) if self.client else None))
                self.event_log.append("ping " + preview(f.payload))
                return None
            if op == PONG:
                return Event("pong", payload=f.payload)
            return self.close_event(f.payload)
        if op == CONT:
            if self.frag_op is None:
                self.violate("sent a continuation frame with no message started")
                return None
            self.frag_parts.append(f.payload)
            if not f.fin:
                return None
            opcode, parts = self.frag_op, self.frag_parts
            self.frag_op, self.frag_parts = None, []
            payload = b"".join(parts)
            frames = len(parts)
        else:
            if self.frag_op is not None:
                self.violate("started a new %s message inside a fragmented one" % opname(op))
                self.frag_op, self.frag_parts = None, []
            if not f.fin:
                self.frag_op, self.frag_parts = op, [f.payload]
                return None
            opcode, payload, frames = op, f.payload, 1
        if opcode == TEXT and not is_utf8(payload):
            self.violate("sent a text message that is not valid UTF-8 (RFC 6455 8.1)")
        return Event("message", opcode, payload, frames=frames)

    def close_event(self, payload):
        code, reason = None, b""
        if len(payload) == 1:
            self.violate("sent a 1-byte close payload (RFC 6455 5.5.1)")
        elif len(payload) >= 2:
            code = struct.unpack("!H", payload[:2])[0]
            reason = payload[2:]
            if not is_sendable_code(code):
                self.violate("sent close code %d, which must not be sent (RFC 6455 7.4)" % code)
            if not is_utf8(reason):
                self.violate("sent a close reason that is not valid UTF-8 (RFC 6455 5.5.1)")
        ev = Event("close", code=code, reason=reason)
        self.peer_close = ev
        return ev

    def next_event(self, timeout=None):
        end = self.t.deadline
        if timeout is not None:
            end = min(end, time.monotonic() + timeout)
        while True:
            f = self.parse_frame()
            if f is not None:
                ev = self.handle_frame(f)
                if ev is not None:
                    self.event_log.append(ev.describe())
                    return ev
                continue
            if self.eof:
                ev = Event("reset" if isinstance(self.reset, ConnectionResetError) else "eof")
                if self.rbuf:
                    self.violate("closed TCP in the middle of a frame (%d bytes pending)" % len(self.rbuf))
                    self.rbuf.clear()
                self.event_log.append(ev.describe())
                return ev
            remaining = end - time.monotonic()
            if remaining <= 0:
                return Event("timeout")
            r, _, _ = select.select([self.sock], [], [], remaining)
            if r:
                self.recv_some()


# --- one case's context ------------------------------------------------------

class T:
    """What a case function gets: send and expect helpers, and the verdict."""

    def __init__(self, harness, case, role, args):
        self.h = harness
        self.case = case
        self.role = role                # role under test: "server" or "client"
        self.args = args
        self.deadline = time.monotonic() + case.timeout(args)
        self.status = OK
        self.notes = []
        self.violations = []
        self.conn = None
        self.sock = None                # raw cases
        self.request = None             # client role: the peer's upgrade request
        self.limit = args.max_message if role == "server" else args.client_max_message
        self.expect_exit = "zero"       # client role: "zero", "nonzero" or "any"
        self.done = False

    # verdicts

    def downgrade(self, status, msg):
        if SEVERITY[status] > SEVERITY[self.status]:
            self.status = status
        self.notes.append("%s: %s" % (status, msg) if status != FAILED else msg)

    def nonstrict(self, msg):
        self.downgrade(NON_STRICT, msg)

    def info(self, msg):
        self.downgrade(INFORMATIONAL, msg)

    def note(self, msg):
        self.notes.append(msg)

    def fail(self, msg):
        raise CaseFailed(msg)

    def violation(self, msg):
        if msg not in self.violations:
            self.violations.append(msg)

    # sending

    def frame(self, opcode, payload=b"", fin=True, rsv=0, masked=None, key=None,
              len_form=None, length=None):
        """Encodes a frame as our role must (masked when we are the client),
        unless masked says otherwise."""
        we_are_client = self.role == "server"
        if masked is None:
            masked = we_are_client
        if masked and key is None:
            key = os.urandom(4)
        n = len(payload) if length is None else length
        desc = "%s%s%s%s len=%d" % (opname(opcode), "" if fin else " fin=0",
                                    " rsv=%d" % rsv if rsv else "",
                                    "" if masked == we_are_client else (" masked" if masked else " unmasked"),
                                    n)
        if len_form:
            desc += " (%d-bit length)" % len_form
        if payload and len(payload) <= 16:
            desc += " " + preview(payload)
        self.conn.sent_log.append(desc)
        if opcode == CLOSE:
            self.conn.sent_close = True
        return encode_frame(opcode, payload, fin, rsv, key if masked else None, length, len_form)

    def send(self, opcode, payload=b"", chop=None, pause=None, **kw):
        return self.conn.send_raw(self.frame(opcode, payload, **kw), chop, pause)

    def send_raw(self, data, chop=None, pause=None):
        return self.conn.send_raw(data, chop, pause)

    # expecting

    def event(self, timeout=None):
        return self.conn.next_event(timeout)

    def expect_nothing(self, seconds):
        ev = self.event(seconds)
        if ev.kind != "timeout":
            self.fail("expected nothing yet, got %s" % ev.describe())

    def expect_echo(self, opcode, payload, ev=None):
        ev = ev or self.event()
        if ev.kind == "message" and ev.opcode == opcode and ev.payload == payload:
            return ev
        want = "the echo of the %d-byte %s message" % (len(payload), opname(opcode))
        if ev.kind == "message" and ev.opcode == opcode and len(ev.payload) == len(payload):
            i = next(i for i in range(len(payload)) if payload[i] != ev.payload[i])
            self.fail("expected %s, got one that differs from byte %d" % (want, i))
        self.fail("expected %s, got %s" % (want, ev.describe()))

    def echo(self, opcode, payload, **kw):
        self.send(opcode, payload, **kw)
        self.expect_echo(opcode, payload)

    def expect_pong(self, payload, ev=None):
        ev = ev or self.event()
        if ev.kind == "pong" and ev.payload == payload:
            return ev
        self.fail("expected a pong with %s, got %s" % (preview(payload), ev.describe()))

    def expect_fail(self, codes=(1002,), ev=None, reply=True, drop_ok=False):
        """The peer must fail the connection: a close frame with one of codes
        (RFC 6455 7.1.7 says SHOULD, so a bare TCP close is NON-STRICT, or OK
        when drop_ok), and nothing else first."""
        ev = ev or self.event()
        self.expect_exit = "any"
        want = "/".join(str(c) for c in codes)
        if ev.kind == "close":
            if ev.code is None:
                self.nonstrict("close frame without a status code; %s expected" % want)
            elif ev.code not in codes:
                self.fail("the %s closed with %d%s; expected %s"
                          % (self.role, ev.code, " " + preview(ev.reason) if ev.reason else "", want))
            if reply:
                self.finish_peer_close(ev)
            return ev
        if ev.kind in ("eof", "reset"):
            if not drop_ok:
                self.nonstrict("the %s dropped TCP without a close frame (RFC 6455 7.1.7: SHOULD send close %s)"
                               % (self.role, want))
            self.finish_tcp()
            return ev
        if ev.kind == "timeout":
            self.fail("the %s did not fail the connection (close %s expected) before the deadline"
                      % (self.role, want))
        self.fail("expected the %s to fail the connection with close %s, got %s"
                  % (self.role, want, ev.describe()))

    def expect_echo_then_fail(self, opcode, payload, codes=(1002,)):
        """A valid message, then a bad frame: Autobahn wants the echo before
        the failure, and rates failing without it NON-STRICT."""
        ev = self.event()
        if ev.kind in ("close", "eof", "reset"):
            self.nonstrict("failed the connection without echoing the valid message sent before the bad frame")
            return self.expect_fail(codes, ev)
        self.expect_echo(opcode, payload, ev)
        return self.expect_fail(codes)

    def reply_close(self, ev):
        if self.conn.sent_close:
            return
        if ev.code is None:
            payload = b""
        else:
            payload = struct.pack("!H", ev.code if is_sendable_code(ev.code) else 1002)
        self.send(CLOSE, payload)

    def finish_peer_close(self, ev):
        self.reply_close(ev)
        self.finish_tcp()

    def finish_tcp(self):
        """Ends the TCP connection as RFC 6455 7.1.1 says: the server closes
        first. Testing a server, we wait for its FIN; testing a client, we
        close and let it follow (Autobahn: a client closing first is fine)."""
        c = self.conn
        if self.role == "server":
            while True:
                ev = c.next_event()
                if ev.kind in ("eof", "reset"):
                    break
                if ev.kind == "timeout":
                    self.fail("the server did not close the TCP connection after the closing handshake "
                              "(RFC 6455 7.1.1: the server closes it first)")
                if c.peer_close is None:
                    self.fail("unexpected %s while waiting for the closing handshake" % ev.describe())
        else:
            c.shutdown_write()
            while True:
                ev = c.next_event(2.0)
                if ev.kind in ("eof", "reset", "timeout"):
                    break
        c.close()
        self.done = True

    def close(self, code=1000, reason=b"", payload=None, expect=None, **kw):
        """Starts a normal closing handshake and checks the reply."""
        if payload is None:
            payload = b"" if code is None else struct.pack("!H", code) + reason
        # A client may report a close with an error code as a failure.
        self.expect_exit = "zero" if code in (None, 1000, 1001) else "any"
        self.send(CLOSE, payload, **kw)
        if expect is None:
            expect = (None, 1000) if code is None else (code, 1000)
        self.await_close_reply(expect)

    def await_close_reply(self, expect=(1000,)):
        ev = self.event()
        if ev.kind == "close":
            # RFC 6455 5.5.1: the reply "typically" echoes the code; an
            # empty reply is allowed.
            if ev.code is not None and ev.code not in expect:
                self.fail("the %s answered our close with %d; expected %s"
                          % (self.role, ev.code, "/".join(str(c) for c in expect if c)))
            self.finish_tcp()
            return ev
        if ev.kind in ("eof", "reset"):
            self.fail("the %s closed TCP without answering our close frame "
                      "(RFC 6455 5.5.1: MUST send a close frame in response)" % self.role)
        self.fail("expected a close frame in reply to ours, got %s" % ev.describe())

    def expect_echo_or_limit(self, opcode, payload):
        """For a client whose message limit we don't know: an echo is OK, a
        clean 1009 refusal is INFORMATIONAL."""
        ev = self.event()
        if ev.kind == "close" and ev.code == 1009 and self.limit is None:
            self.info("the client refused a %d-byte message with 1009 (its limit is lower)" % len(payload))
            self.finish_peer_close(ev)
            self.expect_exit = "any"
            return False
        self.expect_echo(opcode, payload, ev)
        return True

    def reconnect(self):
        """Ends this connection (checking it) and opens a new one; for a
        client under test that is a new process."""
        self.check_connection()
        self.h.end_connection(self)
        self.conn = None
        self.done = False
        self.expect_exit = "zero"
        self.deadline = time.monotonic() + self.case.timeout(self.args)
        self.h.begin_connection(self)

    def check_connection(self):
        if self.violations:
            self.fail("; ".join(self.violations))
        if self.conn is not None and not self.done:
            raise RuntimeError("checker bug: case %s left its connection open" % self.case.cid)


# --- cases -------------------------------------------------------------------

class Case:
    def __init__(self, cid, desc, fn, roles, timeout=None, raw=False, needs=None):
        self.cid = cid
        self.desc = desc
        self.fn = fn
        self.roles = roles
        self.base_timeout = timeout
        self.raw = raw
        self.needs = needs      # predicate (args, role) -> bool

    def timeout(self, args):
        return max(args.timeout, self.base_timeout or 0)

    def applies(self, args, role):
        return role in self.roles and (self.needs is None or self.needs(args, role))


CASES = []
BOTH = ("server", "client")


def add(cid, desc, fn, roles=BOTH, **kw):
    CASES.append(Case(cid, desc, fn, roles, **kw))


def case(cid, desc, roles=BOTH, **kw):
    def deco(fn):
        add(cid, desc, fn, roles, **kw)
        return fn
    return deco


def limit_of(args, role):
    return args.max_message if role == "server" else args.client_max_message


def fits(n):
    """The peer's message limit (if known) allows n bytes."""
    def needs(args, role):
        limit = limit_of(args, role)
        return limit is None or n <= limit
    return needs


# 0: opening handshake --------------------------------------------------------

def expect_refusal(t, status, want_codes=None, lenient=False, what=""):
    code = status.split(" ")[1] if len(status.split(" ")) > 1 else "?"
    if code == "101":
        msg = "the server accepted %s with 101" % what
        if lenient:
            t.nonstrict(msg)
        else:
            t.fail(msg + " (RFC 6455 4.2.1: it MUST answer with an HTTP error such as 400)")
        return code
    if not code.startswith("4"):
        t.fail("expected an HTTP 4xx refusal for %s, got %r" % (what, status))
    if want_codes and code not in want_codes:
        t.fail("expected HTTP %s for %s, got %r" % (" or ".join(want_codes), what, status))
    return code


def request_text(t, key, lines=None, method="GET", version="HTTP/1.1", path=None, drop=()):
    h = t.h
    path = path or h.path
    head = ["%s %s %s" % (method, path, version)]
    std = [("Host", "%s:%d" % (h.host, h.port)), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
           ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")]
    for name, value in (lines if lines is not None else std):
        if name.lower() not in drop:
            head.append("%s: %s" % (name, value))
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")


def new_key():
    return base64.b64encode(os.urandom(16)).decode()


@case("0.1", "opening handshake, then a text echo and a normal close")
def _(t):
    if t.role == "client":
        t.note("request: %s" % t.request["start"])
    t.echo(TEXT, b"Hello, world!")
    t.close()


def server_bad_request(what, make, want_codes=None, lenient=False, version_header=False):
    def run(t):
        key = new_key()
        status, headers, _ = t.h.raw_upgrade(t, make(t, key))
        expect_refusal(t, status, want_codes, lenient, what)
        if version_header and "13" not in tokens(headers.get("sec-websocket-version", "")):
            t.fail("the refusal of version 12 has no Sec-WebSocket-Version: 13 header "
                   "(RFC 6455 4.2.2: the server MUST send one)")
        t.done = True
    return run


add("0.2", "request without Sec-WebSocket-Key is refused",
    server_bad_request("a request without Sec-WebSocket-Key",
                       lambda t, k: request_text(t, k, drop=("sec-websocket-key",))),
    roles=("server",), raw=True)
add("0.3", "Sec-WebSocket-Key of 15 bytes is refused",
    server_bad_request("a 15-byte Sec-WebSocket-Key",
                       lambda t, k: request_text(t, base64.b64encode(os.urandom(15)).decode())),
    roles=("server",), raw=True)
add("0.4", "Sec-WebSocket-Version 12 is refused with 400/426 and Sec-WebSocket-Version 13",
    server_bad_request("Sec-WebSocket-Version: 12",
                       lambda t, k: request_text(t, k, lines=[
                           ("Host", "%s:%d" % (t.h.host, t.h.port)), ("Upgrade", "websocket"),
                           ("Connection", "Upgrade"), ("Sec-WebSocket-Key", k),
                           ("Sec-WebSocket-Version", "12")]),
                       want_codes=("400", "426"), version_header=True),
    roles=("server",), raw=True)
add("0.5", "request without Upgrade header is not upgraded",
    server_bad_request("a request without Upgrade",
                       lambda t, k: request_text(t, k, drop=("upgrade",))),
    roles=("server",), raw=True)
add("0.6", "Connection header without the upgrade token is not upgraded",
    server_bad_request("Connection: keep-alive",
                       lambda t, k: request_text(t, k, lines=[
                           ("Host", "%s:%d" % (t.h.host, t.h.port)), ("Upgrade", "websocket"),
                           ("Connection", "keep-alive"), ("Sec-WebSocket-Key", k),
                           ("Sec-WebSocket-Version", "13")])),
    roles=("server",), raw=True)
add("0.7", "POST upgrade request is refused",
    server_bad_request("a POST", lambda t, k: request_text(t, k, method="POST")),
    roles=("server",), raw=True)
add("0.8", "HTTP/1.0 upgrade request is refused (lenient: NON-STRICT)",
    server_bad_request("an HTTP/1.0 request", lambda t, k: request_text(t, k, version="HTTP/1.0"),
                       lenient=True),
    roles=("server",), raw=True)
add("0.9", "request without Host is refused (lenient: NON-STRICT)",
    server_bad_request("a request without Host", lambda t, k: request_text(t, k, drop=("host",)),
                       lenient=True),
    roles=("server",), raw=True)


def server_good_request(make, chop=None, first_frame=False, deflate=False):
    def run(t):
        key = new_key()
        data = make(t, key)
        payload = b"pipelined with the request"
        frame = encode_frame(TEXT, payload, mask_key=os.urandom(4)) if first_frame else b""
        status, headers, leftover = t.h.raw_upgrade(t, data + frame, chop=chop)
        if status.split(" ")[1:2] != ["101"]:
            t.fail("handshake refused: %r" % status)
        t.h.check_101(t, status, headers, key, allow_extensions=deflate)
        if deflate and "sec-websocket-extensions" in headers:
            t.info("the server accepted permessage-deflate (%s); the rest of this case is skipped"
                   % headers["sec-websocket-extensions"])
            t.done = True
            return
        t.conn = Conn(t, t.sock, True, leftover)
        if first_frame:
            t.expect_echo(TEXT, payload)
        else:
            t.echo(TEXT, b"Hello, world!")
        t.close()
    return run


add("0.10", "header names and values in unusual case, Connection: keep-alive, Upgrade",
    server_good_request(lambda t, k: request_text(t, k, lines=[
        ("host", "%s:%d" % (t.h.host, t.h.port)), ("UPGRADE", "WebSocket"),
        ("connection", "keep-alive, Upgrade"), ("sec-websocket-key", k),
        ("SEC-WEBSOCKET-VERSION", "13"), ("User-Agent", "ws-conformance")])),
    roles=("server",), raw=True)
add("0.11", "first frame in the same TCP write as the upgrade request is echoed",
    server_good_request(request_text, first_frame=True), roles=("server",), raw=True)
add("0.12", "upgrade request sent in 1-byte TCP writes",
    server_good_request(request_text, chop=1), roles=("server",), raw=True)
add("0.13", "permessage-deflate offered: not negotiated by a server without extensions",
    server_good_request(lambda t, k: request_text(t, k, lines=[
        ("Host", "%s:%d" % (t.h.host, t.h.port)), ("Upgrade", "websocket"),
        ("Connection", "Upgrade"), ("Sec-WebSocket-Key", k), ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")]),
        deflate=True),
    roles=("server",), raw=True)


def client_response(t, extra_lines=(), accept=None, status="101 Switching Protocols", drop=()):
    key = t.request["headers"].get("sec-websocket-key", "")
    lines = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
             ("Sec-WebSocket-Accept", accept if accept is not None else accept_key(key))]
    out = ["HTTP/1.1 " + status]
    out += ["%s: %s" % (n, v) for n, v in lines if n.lower() not in drop]
    out += ["%s: %s" % (n, v) for n, v in extra_lines]
    return ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")


def client_good_response(make, chop=None, first_frame=False):
    def run(t):
        payload = b"in the same write as the 101"
        data = make(t)
        t.conn = Conn(t, t.sock, False)
        if first_frame:
            data += t.frame(TEXT, payload)
        t.send_raw(data, chop=chop)
        if first_frame:
            t.expect_echo(TEXT, payload)
        else:
            t.echo(TEXT, b"Hello, world!")
        t.close()
    return run


add("0.2", "first frame in the same TCP write as the 101 is echoed",
    client_good_response(client_response, first_frame=True), roles=("client",), raw=True)
add("0.3", "101 response sent in 1-byte TCP writes",
    client_good_response(client_response, chop=1), roles=("client",), raw=True)
add("0.4", "101 with header names in unusual case and Upgrade: WebSocket",
    client_good_response(lambda t: (
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nCONNECTION: upgrade\r\n"
        "sec-websocket-accept: %s\r\nServer: ws-conformance\r\n\r\n"
        % accept_key(t.request["headers"].get("sec-websocket-key", ""))).encode()),
    roles=("client",), raw=True)


def client_bad_response(what, make):
    """RFC 6455 4.1: on an invalid response the client MUST fail the
    connection: it must not process the frame we send after it."""
    def run(t):
        t.conn = Conn(t, t.sock, False)
        t.expect_exit = "nonzero"
        t.conn.sent_log.append("response with %s, then a text frame" % what)
        t.send_raw(make(t) + encode_frame(TEXT, b"must not be echoed"))
        ev = t.event()
        if ev.kind == "close":
            t.nonstrict("the client sent a close frame on a connection that never opened")
            ev = t.event()
        if ev.kind == "timeout":
            t.fail("the client did not close the connection after %s" % what)
        if ev.kind not in ("eof", "reset"):
            t.fail("the client went on after %s: %s" % (what, ev.describe()))
        t.conn.close()
        t.done = True
    return run


add("0.5", "wrong Sec-WebSocket-Accept makes the client fail",
    client_bad_response("a wrong Sec-WebSocket-Accept",
                        lambda t: client_response(t, accept=accept_key("x" * 24))),
    roles=("client",), raw=True)
add("0.6", "HTTP 200 instead of 101 makes the client fail",
    client_bad_response("HTTP 200",
                        lambda t: b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
    roles=("client",), raw=True)
add("0.10", "HTTP 200 with a body until close, never closed: the client fails at once, not at its timeout",
    client_bad_response("HTTP 200 with a body that runs until the server closes",
                        lambda t: b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"
                                  b"<html>a page that goes on"),
    roles=("client",), raw=True)
add("0.7", "101 without Upgrade header makes the client fail",
    client_bad_response("a 101 without Upgrade", lambda t: client_response(t, drop=("upgrade",))),
    roles=("client",), raw=True)
add("0.8", "101 with an extension the client did not offer makes it fail",
    client_bad_response("an unrequested Sec-WebSocket-Extensions",
                        lambda t: client_response(t, [("Sec-WebSocket-Extensions", "x-ws-conformance-unknown")])),
    roles=("client",), raw=True)
add("0.9", "101 with a subprotocol the client did not offer makes it fail",
    client_bad_response("an unrequested Sec-WebSocket-Protocol",
                        lambda t: client_response(t, [("Sec-WebSocket-Protocol", "chat")])),
    roles=("client",), raw=True)


# 1: framing ------------------------------------------------------------------

SIZES = [0, 125, 126, 127, 128, 65535, 65536]


def echo_case(opcode, n, chop=None):
    def run(t):
        payload = text_payload(n) if opcode == TEXT else binary_payload(n)
        t.send(opcode, payload, chop=chop)
        t.expect_echo(opcode, payload)
        t.close()
    return run


for _i, _n in enumerate(SIZES, 1):
    add("1.1.%d" % _i, "text message of %d bytes" % _n, echo_case(TEXT, _n), needs=fits(_n))
    add("1.2.%d" % _i, "binary message of %d bytes" % _n, echo_case(BINARY, _n), needs=fits(_n))
    add("1.3.%d" % _i, "text message of %d bytes in 997-byte TCP writes" % _n,
        echo_case(TEXT, _n, chop=997), needs=fits(_n))
    add("1.4.%d" % _i, "binary message of %d bytes in 997-byte TCP writes" % _n,
        echo_case(BINARY, _n, chop=997), needs=fits(_n))


@case("1.5.1", "100 text and 100 binary messages in one TCP write, echoed in order")
def _(t):
    msgs = []
    for i in range(100):
        msgs.append((TEXT, text_payload(i * 13 % 300)))
        msgs.append((BINARY, binary_payload(i * 17 % 300, i)))
    t.send_raw(b"".join(t.frame(op, p) for op, p in msgs))
    for op, p in msgs:
        t.expect_echo(op, p)
    t.close()


def nonminimal_case(opcode, n, form):
    def run(t):
        payload = text_payload(n) if opcode == TEXT else binary_payload(n)
        t.send(opcode, payload, len_form=form)
        ev = t.event()
        if ev.kind == "message":
            t.expect_echo(opcode, payload, ev)
            t.info("accepted a non-minimal %d-bit length" % form)
            t.close()
        else:
            t.expect_fail((1002,), ev)
            t.info("refused a non-minimal %d-bit length with 1002" % form)
    return run


add("1.5.2", "text of 5 bytes with a 16-bit length (non-minimal; either way INFORMATIONAL)",
    nonminimal_case(TEXT, 5, 16))
add("1.5.3", "binary of 200 bytes with a 64-bit length (non-minimal; either way INFORMATIONAL)",
    nonminimal_case(BINARY, 200, 64))


# 2: ping and pong ------------------------------------------------------------

def ping_case(payload, chop=None):
    def run(t):
        t.send(PING, payload, chop=chop)
        t.expect_pong(payload)
        t.close()
    return run


add("2.1", "ping without payload is answered by a pong", ping_case(b""))
add("2.2", "ping with a small text payload", ping_case(b"Hello, world!"))
add("2.3", "ping with a small binary payload", ping_case(b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"))
add("2.4", "ping with a 125-byte binary payload", ping_case(binary_payload(125)))


@case("2.5", "ping with a 126-byte payload fails the connection with 1002")
def _(t):
    t.send(PING, b"\xfe" * 126)
    t.expect_fail((1002,))


add("2.6", "ping with a 125-byte payload in 1-byte TCP writes", ping_case(binary_payload(125, 1), chop=1))


@case("2.7", "unsolicited pong without payload is ignored")
def _(t):
    t.send(PONG)
    t.close()


@case("2.8", "unsolicited pong with a 125-byte payload is ignored")
def _(t):
    t.send(PONG, b"\x01" * 125)
    t.close()


@case("2.9", "unsolicited pong then a ping: one pong, for the ping")
def _(t):
    t.send(PONG, b"unsolicited")
    t.send(PING, b"solicited")
    t.expect_pong(b"solicited")
    t.close()


def many_pings(chop=None):
    def run(t):
        payloads = [("payload-%d" % i).encode() for i in range(10)]
        t.send_raw(b"".join(t.frame(PING, p) for p in payloads), chop=chop)
        got = []
        while not got or got[-1] != payloads[-1]:
            ev = t.event()
            if ev.kind != "pong":
                t.fail("expected pongs for 10 pings, got %s after %d pongs" % (ev.describe(), len(got)))
            got.append(ev.payload)
        if got != payloads:
            idx = [payloads.index(p) if p in payloads else -1 for p in got]
            if -1 in idx or idx != sorted(set(idx)):
                t.fail("pongs do not match the pings in order: %r" % got)
            # RFC 6455 5.5.3 lets a pong answer only the latest ping.
            t.info("answered %d of 10 pings (allowed: a pong may cover earlier pings)" % len(got))
        t.close()
    return run


add("2.10", "10 pings in one write: pongs in order, at least for the last", many_pings())
add("2.11", "10 pings in 1-byte TCP writes", many_pings(chop=1))


# 3: reserved bits ------------------------------------------------------------

def rsv_case(opcode, rsv, payload, before=False, ping_after=False, chop=None):
    def run(t):
        data = t.frame(TEXT, b"Hello, world!") if before else b""
        data += t.frame(opcode, payload, rsv=rsv)
        if ping_after:
            data += t.frame(PING, b"after the bad frame")
        t.send_raw(data, chop=chop)
        if before:
            t.expect_echo_then_fail(TEXT, b"Hello, world!")
        else:
            t.expect_fail((1002,))
    return run


add("3.1", "text with RSV1 set fails with 1002", rsv_case(TEXT, 4, b"Hello, world!"))
add("3.2", "valid text, text with RSV2, ping: echo, then 1002, no pong",
    rsv_case(TEXT, 2, b"Hello, world!", before=True, ping_after=True))
add("3.3", "as 3.2 with RSV3, in 1-byte TCP writes",
    rsv_case(TEXT, 1, b"Hello, world!", before=True, ping_after=True, chop=1))
add("3.4", "valid text, text with RSV1+RSV3, ping, in 3-byte TCP writes",
    rsv_case(TEXT, 5, b"Hello, world!", before=True, ping_after=True, chop=3))
add("3.5", "binary with RSV1+RSV3 fails with 1002", rsv_case(BINARY, 5, b"\x00\xff\xfe\xfd\xfc\xfb"))
add("3.6", "ping with RSV2+RSV3 fails with 1002", rsv_case(PING, 3, b"Hello, world!"))
add("3.7", "close with all RSV bits fails with 1002", rsv_case(CLOSE, 7, struct.pack("!H", 1000)))


# 4: reserved opcodes ---------------------------------------------------------

def opcode_case(opcode, variant):
    payload = b"reserved opcode payload" if variant in (1, 3, 4) else b""
    before = variant >= 2
    chop = 1 if variant == 4 else None
    return rsv_case(opcode, 0, payload, before=before, ping_after=before, chop=chop)


for _i, _op in enumerate([3, 4, 5, 6, 7], 1):
    _v = (_i - 1) % 5
    add("4.1.%d" % _i, "reserved data opcode %d%s fails with 1002" % (
        _op, ["", " with payload", " after a valid text, then ping",
              " with payload after a valid text, then ping",
              " with payload after a valid text, in 1-byte writes"][_v]),
        opcode_case(_op, [0, 1, 2, 3, 4][_v]))
for _i, _op in enumerate([0xB, 0xC, 0xD, 0xE, 0xF], 1):
    _v = (_i - 1) % 5
    add("4.2.%d" % _i, "reserved control opcode 0x%X%s fails with 1002" % (
        _op, ["", " with payload", " after a valid text, then ping",
              " with payload after a valid text, then ping",
              " with payload after a valid text, in 1-byte writes"][_v]),
        opcode_case(_op, [0, 1, 2, 3, 4][_v]))


# 5: fragmentation ------------------------------------------------------------

@case("5.1", "ping in 2 fragments fails with 1002")
def _(t):
    t.send_raw(t.frame(PING, b"frag1", fin=False) + t.frame(CONT, b"frag2"))
    t.expect_fail((1002,))


@case("5.2", "pong in 2 fragments fails with 1002")
def _(t):
    t.send_raw(t.frame(PONG, b"frag1", fin=False) + t.frame(CONT, b"frag2"))
    t.expect_fail((1002,))


def two_fragments(chop=None, wait=False, ping=False):
    def run(t):
        f1 = t.frame(TEXT, b"fragment1", fin=False)
        p = t.frame(PING, b"pongme!") if ping else b""
        f2 = t.frame(CONT, b"fragment2")
        if wait:
            t.send_raw(f1 + p, chop=chop)
            if ping:
                # The pong must come while the message is still incomplete.
                t.expect_pong(b"pongme!")
            else:
                t.expect_nothing(0.1)
            t.send_raw(f2, chop=chop)
        else:
            t.send_raw(f1 + p + f2, chop=chop)
            if ping:
                t.expect_pong(b"pongme!")
        t.expect_echo(TEXT, b"fragment1fragment2")
        t.close()
    return run


add("5.3", "text in 2 fragments", two_fragments())
add("5.4", "text in 2 fragments, in 1-byte TCP writes", two_fragments(chop=1))
add("5.5", "text in 2 fragments, the second sent after a pause", two_fragments(wait=True))
add("5.6", "text in 2 fragments with a ping between: pong, then echo", two_fragments(ping=True))
add("5.7", "as 5.6, in 1-byte TCP writes", two_fragments(ping=True, chop=1))
add("5.8", "as 5.6, the pong must come before the last fragment is sent",
    two_fragments(ping=True, wait=True))


def orphan_continuation(fin, mode):
    def run(t):
        frames = [t.frame(CONT, b"non-continuation payload", fin=fin), t.frame(TEXT, b"Hello, world!")]
        if mode == "one":
            t.send_raw(b"".join(frames))
        else:
            for f in frames:
                t.send_raw(f, chop=1 if mode == "octets" else None)
        t.expect_fail((1002,))
    return run


add("5.9", "continuation (fin=1) with nothing to continue, then text: 1002",
    orphan_continuation(True, "one"))
add("5.10", "as 5.9, frame by frame", orphan_continuation(True, "frames"))
add("5.11", "as 5.9, in 1-byte TCP writes", orphan_continuation(True, "octets"))
add("5.12", "continuation (fin=0) with nothing to continue, then text: 1002",
    orphan_continuation(False, "one"))
add("5.13", "as 5.12, frame by frame", orphan_continuation(False, "frames"))
add("5.14", "as 5.12, in 1-byte TCP writes", orphan_continuation(False, "octets"))


@case("5.15", "text in 2 fragments, orphan continuation, text: echo, then 1002")
def _(t):
    t.send_raw(t.frame(TEXT, b"fragment1", fin=False) + t.frame(CONT, b"fragment2")
               + t.frame(CONT, b"fragment3", fin=False) + t.frame(TEXT, b"fragment4"))
    t.expect_echo_then_fail(TEXT, b"fragment1fragment2")


def orphan_then_message(fin):
    def run(t):
        one = (t.frame(CONT, b"fragment1", fin=fin) + t.frame(TEXT, b"fragment2", fin=False)
               + t.frame(CONT, b"fragment3"))
        t.send_raw(one + one)
        t.expect_fail((1002,))
    return run


add("5.16", "2x (continuation fin=0 with nothing to continue, text in 2 fragments): 1002",
    orphan_then_message(False))
add("5.17", "2x (continuation fin=1 with nothing to continue, text in 2 fragments): 1002",
    orphan_then_message(True))


@case("5.18", "text in 2 fragments, both with the text opcode: 1002")
def _(t):
    t.send_raw(t.frame(TEXT, b"fragment1", fin=False) + t.frame(TEXT, b"fragment2"))
    t.expect_fail((1002,))


def five_fragments(chop=None):
    def run(t):
        parts = [b"fragment%d" % i for i in range(1, 6)]
        t.send_raw(t.frame(TEXT, parts[0], fin=False) + t.frame(CONT, parts[1], fin=False)
                   + t.frame(PING, b"pongme 1!"), chop=chop)
        t.expect_pong(b"pongme 1!")
        t.send_raw(t.frame(CONT, parts[2], fin=False) + t.frame(CONT, parts[3], fin=False)
                   + t.frame(PING, b"pongme 2!"), chop=chop)
        t.expect_pong(b"pongme 2!")
        t.send_raw(t.frame(CONT, parts[4]), chop=chop)
        t.expect_echo(TEXT, b"".join(parts))
        t.close()
    return run


add("5.19", "text in 5 fragments with 2 pings between; each pong before the next fragments",
    five_fragments())
add("5.20", "as 5.19, in 1-byte TCP writes", five_fragments(chop=1))


def many_fragments(opcode, payload, count, chop=None):
    def run(t):
        size = max(1, -(-len(payload) // count))
        pieces = [payload[i:i + size] for i in range(0, len(payload), size)] or [b""]
        data = []
        for i, piece in enumerate(pieces):
            data.append(t.frame(opcode if i == 0 else CONT, piece, fin=i == len(pieces) - 1))
        t.send_raw(b"".join(data), chop=chop)
        t.expect_echo(opcode, payload)
        t.close()
    return run


add("5.21", "binary in 2 fragments", many_fragments(BINARY, binary_payload(1000), 2))
add("5.22", "binary in 100 fragments", many_fragments(BINARY, binary_payload(5000), 100))
add("5.23", "text in 40 fragments, sent in 3-byte TCP writes",
    many_fragments(TEXT, text_payload(400), 40, chop=3))


@case("5.24", "text with empty first, middle and last fragments")
def _(t):
    t.send_raw(t.frame(TEXT, b"", fin=False) + t.frame(CONT, b"Hello, ", fin=False)
               + t.frame(CONT, b"", fin=False) + t.frame(CONT, b"world!", fin=False) + t.frame(CONT, b""))
    t.expect_echo(TEXT, b"Hello, world!")
    t.close()


@case("5.25", "text started, then a binary start instead of a continuation: 1002")
def _(t):
    t.send_raw(t.frame(TEXT, b"fragment1", fin=False) + t.frame(BINARY, b"fragment2"))
    t.expect_fail((1002,))


@case("5.26", "text started and never finished, then close: close reply, no echo")
def _(t):
    t.send_raw(t.frame(TEXT, b"fragment1", fin=False) + t.frame(CONT, b"fragment2", fin=False))
    t.close()


@case("5.27", "unsolicited pong between fragments is ignored")
def _(t):
    t.send_raw(t.frame(TEXT, b"fragment1", fin=False) + t.frame(PONG, b"unsolicited")
               + t.frame(CONT, b"fragment2"))
    t.expect_echo(TEXT, b"fragment1fragment2")
    t.close()


@case("5.28", "close frame with fin=0 fails with 1002")
def _(t):
    t.send(CLOSE, struct.pack("!H", 1000), fin=False)
    t.expect_fail((1002,))


# 6: UTF-8 --------------------------------------------------------------------

VALID_UTF8 = [
    ("ASCII", b"Hello, world!"),
    ("Hello-\\u00b5@\\u00df\\u00f6\\u00e4\\u00fc\\u00e0\\u00e1-UTF-8!!",
     "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!".encode()),
    ("kosme (Greek)", "\u03ba\u1f79\u03c3\u03bc\u03b5".encode()),
    ("first 2-byte U+0080", "\u0080".encode()),
    ("last 2-byte U+07FF", "\u07ff".encode()),
    ("first 3-byte U+0800", "\u0800".encode()),
    ("last 3-byte U+FFFF", "\uffff".encode()),
    ("first 4-byte U+10000", "\U00010000".encode()),
    ("max code point U+10FFFF", "\U0010ffff".encode()),
    ("U+D7FF and U+E000 around the surrogates", "\ud7ff\ue000".encode()),
    ("U+FFFD and BOM U+FEFF", "\ufffd\ufeff".encode()),
    ("noncharacters U+FFFE U+FDD0 U+1FFFF", "\ufffe\ufdd0\U0001ffff".encode()),
    ("4-byte emoji among ASCII", "a\U0001f600z".encode()),
    ("mixed widths", "a\u00e9\u4e2d\U0001d11ez".encode()),
    # Valid UTF-8 and valid RFC 6455, though not a C string.
    ("U+0000 alone", b"\x00"),
    ("U+0000 among text", b"a\x00b\x00"),
]

INVALID_UTF8 = [
    ("kosme + U+D800 + edited (Autobahn 6.3.1)",
     b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"),
    ("overlong '/' C0 AF", b"\xc0\xaf"),
    ("overlong '/' E0 80 AF", b"\xe0\x80\xaf"),
    ("overlong '/' F0 80 80 AF", b"\xf0\x80\x80\xaf"),
    ("overlong NUL C0 80", b"\xc0\x80"),
    ("overlong NUL E0 80 80", b"\xe0\x80\x80"),
    ("max overlong C1 BF", b"\xc1\xbf"),
    ("max overlong E0 9F BF", b"\xe0\x9f\xbf"),
    ("max overlong F0 8F BF BF", b"\xf0\x8f\xbf\xbf"),
    ("5-byte sequence F8 88 80 80 80", b"\xf8\x88\x80\x80\x80"),
    ("6-byte sequence FC 84 80 80 80 80", b"\xfc\x84\x80\x80\x80\x80"),
    ("surrogate U+D800", b"a\xed\xa0\x80z"),
    ("surrogate U+DFFF", b"a\xed\xbf\xbfz"),
    ("surrogate pair U+D800 U+DC00", b"\xed\xa0\x80\xed\xb0\x80"),
    ("U+110000 F4 90 80 80", b"\xf4\x90\x80\x80"),
    ("F5 80 80 80", b"\xf5\x80\x80\x80"),
    ("F7 BF BF BF", b"\xf7\xbf\xbf\xbf"),
    ("lone continuation 80", b"a\x80z"),
    ("lone continuation BF", b"\xbf"),
    ("continuations 80 BF 80", b"\x80\xbf\x80"),
    ("start byte C2 then space", b"\xc2 "),
    ("E2 82 then ASCII", b"\xe2\x82A"),
    ("truncated 2-byte at the end", b"Hello\xc2"),
    ("truncated 3-byte at the end", b"Hello\xe2\x82"),
    ("truncated 4-byte at the end", b"Hello\xf0\x9f\x98"),
    ("byte FE", b"a\xfez"),
    ("byte FF", b"\xff"),
    ("FE FE FF FF", b"\xfe\xfe\xff\xff"),
]

for _name, _data in VALID_UTF8:
    assert is_utf8(_data), _name
for _name, _data in INVALID_UTF8:
    assert not is_utf8(_data), _name


def fragments_frames(t, payload, cuts):
    bounds = [0] + list(cuts) + [len(payload)]
    pieces = [payload[bounds[i]:bounds[i + 1]] for i in range(len(bounds) - 1)]
    return b"".join(t.frame(TEXT if i == 0 else CONT, p, fin=i == len(pieces) - 1)
                    for i, p in enumerate(pieces))


@case("6.1.1", "empty text message")
def _(t):
    t.echo(TEXT, b"")
    t.close()


@case("6.1.2", "empty text message in 3 empty fragments")
def _(t):
    t.send_raw(t.frame(TEXT, b"", fin=False) + t.frame(CONT, b"", fin=False) + t.frame(CONT, b""))
    t.expect_echo(TEXT, b"")
    t.close()


@case("6.2.1", "valid UTF-8 text in one frame")
def _(t):
    t.echo(TEXT, VALID_UTF8[1][1])
    t.close()


@case("6.2.2", "valid UTF-8 text in 2 fragments, split on a code point boundary")
def _(t):
    p = VALID_UTF8[1][1]
    t.send_raw(fragments_frames(t, p, [8]))
    t.expect_echo(TEXT, p)
    t.close()


@case("6.2.3", "valid UTF-8 text in 1-byte fragments (frames end inside code points)")
def _(t):
    p = VALID_UTF8[1][1]
    t.send_raw(fragments_frames(t, p, range(1, len(p))))
    t.expect_echo(TEXT, p)
    t.close()


@case("6.2.4", "valid UTF-8 text with 4-byte sequences in 1-byte fragments")
def _(t):
    p = "\u03ba\u1f79\u03c3\u03bc\u03b5\U0001d11e\U0010ffff".encode()
    t.send_raw(fragments_frames(t, p, range(1, len(p))))
    t.expect_echo(TEXT, p)
    t.close()


@case("6.3.1", "invalid UTF-8 text in one frame fails with 1007")
def _(t):
    t.send(TEXT, INVALID_UTF8[0][1])
    t.expect_fail((1007,))


@case("6.3.2", "invalid UTF-8 text in 1-byte fragments fails with 1007")
def _(t):
    p = INVALID_UTF8[0][1]
    t.send_raw(fragments_frames(t, p, range(1, len(p))))
    t.expect_fail((1007,))


def fail_fast(parts, mode):
    """Autobahn 6.4.x: the invalid part is sent, then we wait; the peer must
    fail before the rest arrives (failing only after it is NON-STRICT)."""
    p1, p2, p3 = parts

    def run(t):
        if mode == "frames":
            t.send_raw(t.frame(TEXT, p1, fin=False))
            t.send_raw(t.frame(CONT, p2, fin=False))
            rest = t.frame(CONT, p3)
        else:
            whole = p1 + p2 + p3
            f = t.frame(TEXT, whole)
            h = len(f) - len(whole)
            t.send_raw(f[:h + len(p1)])
            t.send_raw(f[h + len(p1):h + len(p1) + len(p2)])
            rest = f[h + len(p1) + len(p2):]
        ev = t.event(FAIL_FAST_WAIT)
        if ev.kind == "timeout":
            t.send_raw(rest)
            t.nonstrict("failed only after the rest of the message arrived, not on the invalid bytes")
            ev = None
        t.expect_fail((1007,), ev)
    return run


KOSME = "\u03ba\u1f79\u03c3\u03bc\u03b5".encode()
add("6.4.1", "fail fast: invalid U+110000 in the 2nd of 3 fragments",
    fail_fast((KOSME, b"\xf4\x90\x80\x80", b"edited"), "frames"))
add("6.4.2", "fail fast: 2nd fragment is F4 90 (can never be valid)",
    fail_fast((KOSME, b"\xf4\x90", b"\x80\x80edited"), "frames"))
add("6.4.3", "fail fast: invalid U+110000 in the 2nd of 3 TCP writes of one frame",
    fail_fast((KOSME, b"\xf4\x90\x80\x80", b"edited"), "chops"))
add("6.4.4", "fail fast: 2nd TCP write of one frame is F4 90",
    fail_fast((KOSME, b"\xf4\x90", b"\x80\x80edited"), "chops"))
add("6.4.5", "fail fast: 2nd fragment is overlong E0 80",
    fail_fast((b"Hello", b"\xe0\x80", b"\xafworld"), "frames"))
add("6.4.6", "fail fast: 2nd fragment is a surrogate start ED A0",
    fail_fast((b"Hello", b"\xed\xa0", b"\x80world"), "frames"))


def valid_sample(payload):
    def run(t):
        t.echo(TEXT, payload)
        for cut in range(1, len(payload)):
            t.send_raw(fragments_frames(t, payload, [cut]))
            t.expect_echo(TEXT, payload)
        if len(payload) > 1:
            t.send_raw(fragments_frames(t, payload, range(1, len(payload))))
            t.expect_echo(TEXT, payload)
        t.close()
    return run


def invalid_sample(payload):
    def run(t):
        variants = [("whole", [])]
        if len(payload) > 1:
            variants.append(("in 1-byte fragments", list(range(1, len(payload)))))
            variants += [("split at byte %d" % cut, [cut]) for cut in range(1, len(payload))]
        for i, (name, cuts) in enumerate(variants):
            if i:
                t.reconnect()
            t.conn.sent_log.append("[%s]" % name)
            t.send_raw(fragments_frames(t, payload, cuts))
            try:
                t.expect_fail((1007,))
            except CaseFailed as e:
                raise CaseFailed("%s: %s" % (name, e))
    return run


for _i, (_name, _data) in enumerate(VALID_UTF8, 1):
    add("6.5.%d" % _i, "valid UTF-8 %s: whole, split at every byte, 1-byte fragments" % _name,
        valid_sample(_data))
for _i, (_name, _data) in enumerate(INVALID_UTF8, 1):
    add("6.6.%d" % _i, "invalid UTF-8 %s: 1007 whole, in 1-byte fragments, split at every byte" % _name,
        invalid_sample(_data))


# 7: closing ------------------------------------------------------------------

@case("7.1.1", "text echo, then close 1000: close 1000 reply, server closes TCP")
def _(t):
    t.echo(TEXT, b"Hello, world!")
    t.close(1000)


@case("7.1.2", "two close frames: one reply, the second ignored")
def _(t):
    t.send_raw(t.frame(CLOSE, struct.pack("!H", 1000)) + t.frame(CLOSE, struct.pack("!H", 1001)))
    t.await_close_reply((1000,))


@case("7.1.3", "ping after close is not answered")
def _(t):
    t.send_raw(t.frame(CLOSE, struct.pack("!H", 1000)) + t.frame(PING, b"after close"))
    t.await_close_reply((1000,))


@case("7.1.4", "text after close is not echoed")
def _(t):
    t.send_raw(t.frame(CLOSE, struct.pack("!H", 1000)) + t.frame(TEXT, b"after close"))
    t.await_close_reply((1000,))


@case("7.1.5", "text fragment, close, continuation: close reply, no echo")
def _(t):
    t.send_raw(t.frame(TEXT, b"fragment1", fin=False) + t.frame(CLOSE, struct.pack("!H", 1000))
               + t.frame(CONT, b"fragment2"))
    t.await_close_reply((1000,))


@case("7.1.6", "64 KiB text then close in one write: the echo, if sent, comes whole before the close")
def _(t):
    payload = text_payload(65536 if t.limit is None else min(65536, t.limit))
    t.send_raw(t.frame(TEXT, payload) + t.frame(CLOSE, struct.pack("!H", 1000)))
    ev = t.event()
    if ev.kind == "message":
        t.expect_echo(TEXT, payload, ev)
    else:
        # Autobahn 7.1.6 is INFORMATIONAL: the peer may close first.
        t.info("closed without echoing the message that came before our close")
        if ev.kind != "close":
            t.fail("expected the echo or a close frame, got %s" % ev.describe())
        if ev.code is not None and ev.code != 1000:
            t.fail("the %s answered our close with %d" % (t.role, ev.code))
        t.finish_tcp()
        return
    t.await_close_reply((1000,))


@case("7.3.1", "close with an empty body: empty or 1000 reply")
def _(t):
    t.close(None)


@case("7.3.2", "close with a 1-byte body fails with 1002")
def _(t):
    t.send(CLOSE, b"\x03")
    t.expect_fail((1002,))


@case("7.3.3", "close 1000 without reason")
def _(t):
    t.close(1000)


@case("7.3.4", "close 1000 with a reason")
def _(t):
    t.close(1000, b"Hello World!")


@case("7.3.5", "close 1000 with a 123-byte reason (125-byte payload)")
def _(t):
    t.close(1000, b"*" * 123)


@case("7.3.6", "close 1000 with a 124-byte reason (126-byte payload) fails with 1002")
def _(t):
    t.send(CLOSE, struct.pack("!H", 1000) + b"*" * 124)
    t.expect_fail((1002,))


@case("7.5.1", "close with an invalid UTF-8 reason fails with 1007 (or 1002)")
def _(t):
    t.send(CLOSE, struct.pack("!H", 1000) + INVALID_UTF8[0][1])
    t.expect_fail((1007, 1002))


def close_code_case(code, valid):
    def run(t):
        if valid is True:
            t.close(code)
            return
        t.send(CLOSE, struct.pack("!H", code))
        ev = t.event()
        if valid is None and ev.kind == "close" and ev.code in (code, 1000):
            t.info("accepted code %d (IANA-registered after RFC 6455)" % code)
            t.finish_peer_close(ev)
        else:
            t.expect_fail((1002,), ev)
            if valid is None:
                t.info("refused code %d (registered after RFC 6455)" % code)
    return run


for _i, _code in enumerate([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999], 1):
    add("7.7.%d" % _i, "close with valid code %d is answered" % _code, close_code_case(_code, True))
for _i, _code in enumerate([1012, 1013, 1014], 1):
    add("7.8.%d" % _i, "close with code %d (IANA, not RFC 6455): either way INFORMATIONAL" % _code,
        close_code_case(_code, None))
for _i, _code in enumerate([0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535], 1):
    add("7.9.%d" % _i, "close with invalid code %d fails with 1002" % _code, close_code_case(_code, False))


@case("7.13", "server (us) keeps TCP open after the closing handshake: the client closes it",
      roles=("client",), timeout=15)
def _(t):
    t.send(CLOSE, struct.pack("!H", 1000))
    ev = t.event()
    if ev.kind != "close":
        t.fail("expected a close frame in reply to ours, got %s" % ev.describe())
    start = time.monotonic()
    ev = t.event()
    if ev.kind == "timeout":
        t.nonstrict("the client never closed TCP itself (RFC 6455 7.1.1: it MAY close after a reasonable time)")
    elif ev.kind not in ("eof", "reset"):
        t.fail("unexpected %s after the closing handshake" % ev.describe())
    else:
        t.note("the client closed TCP %.1f s after the closing handshake" % (time.monotonic() - start))
    t.conn.close()
    t.done = True


@case("7.14", "peer fails the connection and we never answer its close: it closes TCP itself",
      timeout=15)
def _(t):
    t.send(TEXT, b"Hello, world!", rsv=4)
    ev = t.event()
    t.expect_fail((1002,), ev, reply=False)
    if t.done:
        return
    ev = t.event()
    elapsed = time.monotonic() - ev.at if ev.kind == "timeout" else ev.at - t.conn.peer_close.at
    if ev.kind == "timeout":
        t.fail("the %s never closed TCP after failing the connection (RFC 6455 7.1.7: it MUST close it)"
               % t.role)
    elif ev.kind not in ("eof", "reset"):
        t.fail("unexpected %s after the %s's close frame" % (ev.describe(), t.role))
    elif elapsed > 1.0 and t.role == "server":
        t.nonstrict("the server closed TCP only %.1f s after its close frame: it waited for a close reply, "
                    "which RFC 6455 7.1.7 says it must not process" % elapsed)
    else:
        # A client may wait a while for the server to close first (7.1.1).
        t.note("the %s closed TCP %.2f s after its close frame" % (t.role, elapsed))
    t.conn.close()
    t.done = True


# 9: limits -------------------------------------------------------------------

def known_limit(args, role):
    return limit_of(args, role) is not None


def limit_exact(opcode):
    def run(t):
        payload = text_payload(t.limit) if opcode == TEXT else binary_payload(t.limit)
        t.echo(opcode, payload)
        t.close()
    return run


def limit_over(opcode, fragments):
    def run(t):
        n = t.limit + 1
        payload = text_payload(n) if opcode == TEXT else binary_payload(n)
        if fragments == 1:
            t.send(opcode, payload)
        else:
            size = -(-n // fragments)
            pieces = [payload[i:i + size] for i in range(0, n, size)]
            t.send_raw(b"".join(t.frame(opcode if i == 0 else CONT, p, fin=i == len(pieces) - 1)
                                for i, p in enumerate(pieces)))
        t.expect_fail((1009,))
    return run


add("9.1.1", "text of exactly the message limit is echoed", limit_exact(TEXT), needs=known_limit,
    timeout=30)
add("9.1.2", "binary of exactly the message limit is echoed", limit_exact(BINARY), needs=known_limit,
    timeout=30)
add("9.1.3", "text of the limit + 1 byte fails with 1009", limit_over(TEXT, 1), needs=known_limit,
    timeout=30)
add("9.1.4", "binary of the limit + 1 in 2 fragments fails with 1009", limit_over(BINARY, 2),
    needs=known_limit, timeout=30)
add("9.1.5", "binary of the limit + 1 in 4 KiB fragments fails with 1009",
    lambda t: limit_over(BINARY, -(-(t.limit + 1) // 4096))(t), needs=known_limit, timeout=30)


@case("9.1.6", "frame header announcing 2^40 bytes fails with 1009 before any payload",
      needs=known_limit)
def _(t):
    t.send_raw(t.frame(BINARY, b"", length=1 << 40, len_form=64) + b"\x00" * 100)
    ev = t.event(2.0)
    if ev.kind == "timeout":
        t.nonstrict("no reaction to a 2^40-byte frame header within 2 s: the peer waits for the payload "
                    "instead of refusing it at once")
        t.conn.close()
        t.done = True
        t.expect_exit = "any"
        return
    t.expect_fail((1009,), ev)


@case("9.1.7", "64-bit length with the most significant bit set fails (1002, or 1009)")
def _(t):
    t.send_raw(t.frame(BINARY, b"", length=(1 << 63) + 5, len_form=64) + b"\x00" * 5)
    ev = t.event(2.0)
    if ev.kind == "timeout":
        t.nonstrict("no reaction within 2 s to a length with the most significant bit set "
                    "(RFC 6455 5.2: it MUST be 0): the peer waits for 2^63 bytes")
        t.conn.close()
        t.done = True
        t.expect_exit = "any"
        return
    t.expect_fail((1002, 1009), ev)


@case("9.2.1", "up to 16 messages of the limit (64 MiB at most) in one write, echoed in order",
      needs=known_limit, timeout=30)
def _(t):
    count = max(2, min(16, (64 << 20) // t.limit))
    msgs = [(BINARY if i % 2 else TEXT, (binary_payload(t.limit, i) if i % 2 else text_payload(t.limit)))
            for i in range(count)]
    t.send_raw(b"".join(t.frame(op, p) for op, p in msgs))
    for op, p in msgs:
        t.expect_echo(op, p)
    t.close()


def big_message(opcode, n):
    def run(t):
        payload = text_payload(n) if opcode == TEXT else binary_payload(n)
        t.send(opcode, payload)
        if t.expect_echo_or_limit(opcode, payload):
            t.close()
    return run


for _i, (_op, _n) in enumerate([(TEXT, 1 << 20), (BINARY, 1 << 20), (TEXT, 16 << 20), (BINARY, 16 << 20)], 1):
    add("9.3.%d" % _i, "%s message of %d MiB (1009 is INFORMATIONAL if the limit is unknown)" % (
        opname(_op), _n >> 20),
        big_message(_op, _n), needs=lambda args, role, n=_n: (
            limit_of(args, role) is None or n <= limit_of(args, role)), timeout=30)


# 10: big fragmented messages --------------------------------------------------

def capped(n):
    return lambda t: n if t.limit is None else min(n, t.limit)


def big_fragmented(opcode, size_fn, count_fn, chop=None):
    def run(t):
        n = size_fn(t)
        count = count_fn(n)
        payload = text_payload(n) if opcode == TEXT else binary_payload(n)
        size = max(1, -(-n // count))
        pieces = [payload[i:i + size] for i in range(0, n, size)]
        t.send_raw(b"".join(t.frame(opcode if i == 0 else CONT, p, fin=i == len(pieces) - 1)
                            for i, p in enumerate(pieces)), chop=chop)
        if t.expect_echo_or_limit(opcode, payload):
            t.close()
    return run


add("10.1", "text of up to 64 KiB in 1300-byte fragments (Autobahn 10.1.1)",
    big_fragmented(TEXT, capped(65536), lambda n: -(-n // 1300)), timeout=20)
add("10.2", "binary of up to 1 MiB in 64 fragments",
    big_fragmented(BINARY, capped(1 << 20), lambda n: 64), timeout=20)
add("10.3", "binary of 4 KiB in 1-byte fragments (4096 frames)",
    big_fragmented(BINARY, capped(4096), lambda n: n), timeout=20)
add("10.4", "binary of up to 64 KiB in 64 fragments, in 997-byte TCP writes",
    big_fragmented(BINARY, capped(65536), lambda n: 64, chop=997), timeout=20)


@case("10.5", "text in 256 fragments with a ping after every 16th: 16 pongs, then the echo", timeout=20)
def _(t):
    n = min(65536, t.limit or 65536)
    payload = text_payload(n)
    size = -(-n // 256)
    pieces = [payload[i:i + size] for i in range(0, n, size)]
    data = []
    pings = []
    for i, p in enumerate(pieces):
        data.append(t.frame(TEXT if i == 0 else CONT, p, fin=i == len(pieces) - 1))
        if i % 16 == 15 and i != len(pieces) - 1:
            pings.append(b"ping %d" % i)
            data.append(t.frame(PING, pings[-1]))
    t.send_raw(b"".join(data))
    for p in pings:
        t.expect_pong(p)
    t.expect_echo(TEXT, payload)
    t.close()


# 11: masking -----------------------------------------------------------------

@case("11.1", "unmasked text from a client fails the connection (1002 or TCP close)", roles=("server",))
def _(t):
    t.send(TEXT, b"Hello, world!", masked=False)
    t.expect_fail((1002,), drop_ok=True)


@case("11.2", "unmasked ping from a client fails the connection", roles=("server",))
def _(t):
    t.send(PING, b"Hello, world!", masked=False)
    t.expect_fail((1002,), drop_ok=True)


@case("11.3", "unmasked close 1000 from a client fails the connection", roles=("server",))
def _(t):
    t.send(CLOSE, struct.pack("!H", 1000), masked=False)
    t.expect_fail((1002,), drop_ok=True)


@case("11.4", "masked with an all-zero key is still masked: echoed", roles=("server",))
def _(t):
    t.send(TEXT, b"Hello, world!", key=b"\x00\x00\x00\x00")
    t.expect_echo(TEXT, b"Hello, world!")
    t.close()


@case("11.1", "masked text sent to a client fails the connection (1002 or TCP close)", roles=("client",))
def _(t):
    t.send(TEXT, b"Hello, world!", masked=True)
    t.expect_fail((1002,), drop_ok=True)


@case("11.2", "masked ping sent to a client fails the connection", roles=("client",))
def _(t):
    t.send(PING, b"Hello, world!", masked=True)
    t.expect_fail((1002,), drop_ok=True)


@case("11.3", "the client masks every frame with a fresh key (20 echoes and a pong)", roles=("client",))
def _(t):
    for i in range(20):
        t.echo(TEXT if i % 2 else BINARY, b"message %d" % i)
    t.send(PING, b"ping")
    t.expect_pong(b"ping")
    keys = t.conn.mask_keys
    if len(set(keys)) == 1:
        t.fail("the client used the same mask key %s for all %d frames (RFC 6455 5.3: "
               "a fresh, unpredictable key per frame)" % (keys[0].hex(), len(keys)))
    if len(set(keys)) < len(keys):
        t.nonstrict("mask keys repeat: %d distinct of %d" % (len(set(keys)), len(keys)))
    t.close()


# 12: robustness ---------------------------------------------------------------

@case("12.1", "32 connections at once, fragments interleaved across them", roles=("server",))
def _(t):
    subs = [t]
    for _ in range(31):
        sub = T(t.h, t.case, t.role, t.args)
        sub.deadline = t.deadline
        t.h.begin_connection(sub)
        subs.append(sub)
    try:
        payloads = [text_payload(100 + 37 * i) for i in range(len(subs))]
        frames = [fragments_frames(s, p, [len(p) // 3, 2 * len(p) // 3]) for s, p in zip(subs, payloads)]
        # Three rounds, each sending a third of every connection's bytes,
        # in a different order each time.
        for r in range(3):
            order = list(range(len(subs)))
            random.Random(r).shuffle(order)
            for i in order:
                f = frames[i]
                subs[i].send_raw(f[r * len(f) // 3:(r + 1) * len(f) // 3])
        for s, p in zip(subs, payloads):
            s.expect_echo(TEXT, p)
        for s in subs:
            s.close()
    finally:
        for s in subs[1:]:
            for v in s.violations:
                t.violation(v)
            if s.conn is not None:
                s.conn.close()
            t.h.end_connection(s)


def drop_mid_frame(linger_reset):
    def run(t):
        payload = binary_payload(1000)
        t.send_raw(t.frame(BINARY, payload)[:500])
        if linger_reset:
            # SO_LINGER 0: close() sends a TCP reset.
            t.conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        t.conn.close()
        t.done = True
        t.expect_exit = "nonzero"
        if t.role == "server":
            # The server must still serve others.
            t.reconnect()
            t.echo(BINARY, payload)
            t.close()
    return run


add("12.2", "peer closes TCP in the middle of a frame (server: still serves the next; client: fails)",
    drop_mid_frame(False))
add("12.3", "peer resets TCP in the middle of a frame (server: still serves the next; client: fails)",
    drop_mid_frame(True))


def server_junk(what, data):
    def run(t):
        t.sock = t.h.connect_socket(t)
        try:
            send_all(t.sock, data, t.deadline)
        except CaseFailed:
            pass                    # the server may close while we send
        try:
            head, _ = read_http_head(t.sock, t.deadline)
        except CaseFailed as e:
            if "closed" not in str(e) and "reset" not in str(e).lower():
                raise CaseFailed("no HTTP error and no close after %s: %s" % (what, e))
            t.note("the server closed the connection after %s" % what)
        else:
            status, _ = parse_http_head(head)
            if status.split(" ")[1:2] == ["101"]:
                t.fail("the server upgraded after %s" % what)
            t.note("the server answered %r to %s" % (status, what))
        t.done = True
    return run


# The blank line ends the "request", so even a server that only looks at
# whole request heads must answer now.
add("12.4", "binary junk (a TLS ClientHello) and a blank line instead of HTTP: refused or closed",
    server_junk("a TLS ClientHello", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
                + binary_payload(500).replace(b"\r", b"").replace(b"\n", b"") + b"\r\n\r\n"),
    roles=("server",), raw=True)
add("12.5", "upgrade request with 256 KiB of headers: refused or closed, server survives",
    server_junk("256 KiB of request headers",
                b"GET /conformance HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + b"".join(b"X-Filler-%d: %s\r\n" % (i, b"a" * 1000) for i in range(256)) + b"\r\n"),
    roles=("server",), raw=True)


@case("12.6", "4 MiB of messages sent without reading, then every echo read in order", timeout=20)
def _(t):
    msgs = [(BINARY, binary_payload(65536 if t.limit is None else min(65536, t.limit), i)) for i in range(64)]
    t.conn.write(b"".join(t.frame(op, p) for op, p in msgs), read=False)
    for op, p in msgs:
        t.expect_echo(op, p)
    t.close()


# --- the peers under test ----------------------------------------------------

def read_http_head(sock, deadline, limit=65536):
    buf = bytearray()
    while True:
        i = buf.find(b"\r\n\r\n")
        if i >= 0:
            return bytes(buf[:i + 4]), bytes(buf[i + 4:])
        if len(buf) > limit:
            raise CaseFailed("HTTP head larger than %d bytes" % limit)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CaseFailed("no complete HTTP head before the deadline (got %s)" % preview(buf, 80))
        r, _, _ = select.select([sock], [], [], remaining)
        if not r:
            continue
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            continue
        except OSError as e:
            raise CaseFailed("%s while reading the HTTP head (got %s)" % (e, preview(buf, 80)))
        if not data:
            raise CaseFailed("connection closed before the HTTP head was complete (got %s)" % preview(buf, 80))
        buf += data


def parse_http_head(head):
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise CaseFailed("malformed HTTP header line %r" % line)
        name = name.strip().lower()
        value = value.strip()
        headers[name] = headers[name] + ", " + value if name in headers else value
    return lines[0], headers


def send_all(sock, data, deadline, chop=None):
    pieces = [data] if not chop else [data[i:i + chop] for i in range(0, len(data), chop)]
    for i, piece in enumerate(pieces):
        if i:
            time.sleep(0.001)
        view = memoryview(piece)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CaseFailed("deadline passed while sending the handshake")
            _, w, _ = select.select([], [sock], [], remaining)
            if w:
                try:
                    view = view[sock.send(view):]
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError as e:
                    raise CaseFailed("%s while sending the handshake" % e)


def describe_exit(rc):
    if rc is None:
        return "still running"
    if rc < 0:
        try:
            return "killed by %s" % signal.Signals(-rc).name
        except ValueError:
            return "killed by signal %d" % -rc
    return "exit status %d" % rc


class ServerHarness:
    """The checker as a client, against one long-running server."""

    role = "server"

    def __init__(self, args):
        self.args = args
        self.cmd = shlex.split(args.server_cmd) if args.server_cmd else None
        self.proc = None
        self.errlog = tempfile.TemporaryFile()
        self.errpos = 0
        self.stdout_tail = []
        if args.url:
            m = re.match(r"ws://([^/:]+)(?::(\d+))?(/.*)?$", args.url)
            if not m:
                sys.exit("bad --url %r (ws://host:port/path)" % args.url)
            self.host, self.port, self.path = m.group(1), int(m.group(2) or 80), m.group(3) or "/"
        else:
            self.host, self.port, self.path = "127.0.0.1", None, "/conformance"

    def describe(self):
        return self.args.server_cmd or self.args.url

    def start(self):
        if not self.cmd:
            return
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.errlog)
        deadline = time.monotonic() + 15
        out = b""
        fd = self.proc.stdout.fileno()
        while True:
            m = re.search(rb"listening on (\d+)\s", out)
            if m:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SystemExit("the server did not print 'listening on N' within 15 s (got %r)" % out)
            r, _, _ = select.select([fd], [], [], remaining)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise SystemExit("the server exited before listening (%s): %s" % (
                        describe_exit(self.proc.wait()), self.stderr_tail()))
                out += chunk
        self.port = int(m.group(1))
        threading.Thread(target=self.drain_stdout, args=(self.proc.stdout,), daemon=True).start()

    def drain_stdout(self, pipe):
        for line in pipe:
            self.stdout_tail = (self.stdout_tail + [line])[-20:]

    def stderr_new(self):
        self.errlog.seek(self.errpos)
        data = self.errlog.read()
        self.errpos += len(data)
        return data

    def stderr_tail(self, n=2000):
        self.errlog.seek(0)
        return self.errlog.read()[-n:].decode(errors="replace")

    def stop(self):
        """Returns a problem string, or None if the server stopped cleanly."""
        if not self.proc:
            return None
        if self.proc.poll() is not None:
            return "the server had already exited (%s)" % describe_exit(self.proc.returncode)
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "the server did not exit within 10 s of SIGTERM"
        out = self.stderr_new()
        if TROUBLE_RE.search(out):
            return "at exit: " + out[-3000:].decode(errors="replace")
        if rc not in (0, -signal.SIGTERM):
            return "the server exited with %s on SIGTERM" % describe_exit(rc)
        return None

    def connect_socket(self, t):
        remaining = t.deadline - time.monotonic()
        try:
            sock = socket.create_connection((self.host, self.port), timeout=max(remaining, 0.1))
        except OSError as e:
            raise CaseFailed("cannot connect to %s:%s: %s" % (self.host, self.port, e))
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def raw_upgrade(self, t, request, chop=None):
        t.sock = self.connect_socket(t)
        send_all(t.sock, request, t.deadline, chop)
        head, leftover = read_http_head(t.sock, t.deadline)
        status, headers = parse_http_head(head)
        return status, headers, leftover

    def check_101(self, t, status, headers, key, allow_extensions=False):
        if not status.startswith("HTTP/1.1 101"):
            t.violation("the server answered %r (HTTP/1.1 101 expected)" % status)
        if "websocket" not in tokens(headers.get("upgrade", "")):
            t.violation("the 101 lacks Upgrade: websocket (RFC 6455 4.2.2)")
        if "upgrade" not in tokens(headers.get("connection", "")):
            t.violation("the 101 lacks Connection: Upgrade (RFC 6455 4.2.2)")
        if headers.get("sec-websocket-accept") != accept_key(key):
            t.violation("the 101 has Sec-WebSocket-Accept %r, expected %r"
                        % (headers.get("sec-websocket-accept"), accept_key(key)))
        if "sec-websocket-extensions" in headers and not allow_extensions:
            t.violation("the server accepted an extension we did not offer (RFC 6455 9.1)")
        if "sec-websocket-protocol" in headers:
            t.violation("the server chose a subprotocol we did not offer (RFC 6455 4.2.2)")

    def begin_connection(self, t):
        key = new_key()
        status, headers, leftover = self.raw_upgrade(t, request_text(t, key))
        if status.split(" ")[1:2] != ["101"]:
            raise CaseFailed("handshake refused: %r" % status)
        self.check_101(t, status, headers, key)
        t.conn = Conn(t, t.sock, True, leftover)

    def begin_raw(self, t):
        pass

    def end_connection(self, t):
        if t.sock is not None:
            try:
                t.sock.close()
            except OSError:
                pass
            t.sock = None

    def after_case(self, t):
        if not self.proc:
            return
        out = self.stderr_new()
        if TROUBLE_RE.search(out):
            t.downgrade(FAILED, "server stderr: " + out[-2000:].decode(errors="replace"))
        if self.proc.poll() is not None:
            t.downgrade(FAILED, "the server process died (%s); restarted. stderr: %s"
                        % (describe_exit(self.proc.returncode), self.stderr_tail()))
            self.start()


class ClientHarness:
    """The checker as a server; the client command runs once per connection.
    With --jobs, each worker has its own harness (and listening port)."""

    role = "client"
    keys = set()                # Sec-WebSocket-Keys seen, across workers
    keys_lock = threading.Lock()

    def __init__(self, args):
        self.args = args
        self.argv = shlex.split(args.client_cmd)
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.lsock.setblocking(False)
        self.port = self.lsock.getsockname()[1]
        self.host = "127.0.0.1"
        self.proc = None
        self.log = tempfile.TemporaryFile()

    def describe(self):
        return self.args.client_cmd

    def start(self):
        pass

    def stop(self):
        return None

    def discard_stray_connections(self):
        while True:
            try:
                s, _ = self.lsock.accept()
            except (BlockingIOError, InterruptedError):
                return
            s.close()

    def spawn_and_accept(self, t):
        self.discard_stray_connections()
        path = "/conformance/%s?case=%s" % (t.case.cid, t.case.cid)
        url = "ws://127.0.0.1:%d%s" % (self.port, path)
        argv = [a.replace("{url}", url) for a in self.argv]
        if not any("{url}" in a for a in self.argv):
            argv.append(url)
        self.log.seek(0)
        self.log.truncate()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        while True:
            if self.proc.poll() is not None:
                raise CaseFailed("the client exited (%s) without connecting: %s"
                                 % (describe_exit(self.proc.returncode), self.output_tail()))
            remaining = t.deadline - time.monotonic()
            if remaining <= 0:
                raise CaseFailed("the client did not connect before the deadline")
            r, _, _ = select.select([self.lsock], [], [], min(remaining, 0.05))
            if r:
                try:
                    sock, _ = self.lsock.accept()
                    break
                except (BlockingIOError, InterruptedError):
                    continue
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t.sock = sock
        head, leftover = read_http_head(sock, t.deadline)
        start, headers = parse_http_head(head)
        t.request = {"start": start, "headers": headers}
        self.check_request(t, start, headers, path)
        if leftover:
            t.violation("the client sent %d bytes before the 101 response" % len(leftover))

    def check_request(self, t, start, headers, path):
        parts = start.split(" ")
        if len(parts) != 3 or parts[0] != "GET" or parts[2] != "HTTP/1.1":
            t.violation("the client sent %r (GET ... HTTP/1.1 expected, RFC 6455 4.1)" % start)
        elif parts[1] != path:
            t.violation("the client asked for %r; the URL had %r" % (parts[1], path))
        if headers.get("host", "").lower() != "127.0.0.1:%d" % self.port:
            t.violation("the client sent Host %r, expected '127.0.0.1:%d'" % (headers.get("host"), self.port))
        if "websocket" not in tokens(headers.get("upgrade", "")):
            t.violation("the request lacks Upgrade: websocket")
        if "upgrade" not in tokens(headers.get("connection", "")):
            t.violation("the request lacks Connection: Upgrade")
        if headers.get("sec-websocket-version") != "13":
            t.violation("the request has Sec-WebSocket-Version %r, not 13" % headers.get("sec-websocket-version"))
        key = headers.get("sec-websocket-key")
        try:
            if key is None or len(base64.b64decode(key, validate=True)) != 16:
                raise ValueError
        except (ValueError, binascii.Error):
            t.violation("Sec-WebSocket-Key %r is not 16 bytes in base64 (RFC 6455 4.1)" % key)
        with self.keys_lock:
            if key in self.keys:
                t.violation("Sec-WebSocket-Key %r was already used (RFC 6455 4.1: random for each connection)"
                            % key)
            self.keys.add(key)

    def begin_connection(self, t):
        self.spawn_and_accept(t)
        t.conn = Conn(t, t.sock, False)
        t.conn.write(client_response(t))

    def begin_raw(self, t):
        self.spawn_and_accept(t)

    def output_tail(self, n=1500):
        self.log.seek(0)
        return self.log.read()[-n:].decode(errors="replace")

    def end_connection(self, t):
        if t.sock is not None:
            try:
                t.sock.close()
            except OSError:
                pass
            t.sock = None
        proc, self.proc = self.proc, None
        if proc is None:
            return
        grace = max(t.deadline - time.monotonic(), 0) + 6
        try:
            rc = proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise CaseFailed("the client did not exit within %.0f s after the connection ended" % grace)
        self.log.seek(0)
        out = self.log.read()
        if TROUBLE_RE.search(out):
            raise CaseFailed("client output: " + out[-2000:].decode(errors="replace"))
        if rc < 0:
            raise CaseFailed("the client was %s" % describe_exit(rc))
        if t.status == FAILED:
            return
        if t.expect_exit == "zero" and rc != 0:
            raise CaseFailed("the client exited with %d after a clean closing handshake: %s"
                             % (rc, self.output_tail(300)))
        if t.expect_exit == "nonzero" and rc == 0:
            raise CaseFailed("the client exited 0 although its connection failed")
        if t.expect_exit == "any":
            t.note("client %s" % describe_exit(rc))

    def after_case(self, t):
        pass


# --- running -----------------------------------------------------------------

def run_case(h, case, args):
    t = T(h, case, h.role, args)
    start = time.monotonic()
    try:
        try:
            if case.raw:
                h.begin_raw(t)
            else:
                h.begin_connection(t)
            case.fn(t)
            t.check_connection()
        except CaseFailed as e:
            t.downgrade(FAILED, str(e))
            for v in t.violations:
                if v not in str(e):
                    t.downgrade(FAILED, v)
        except Exception:
            t.downgrade(FAILED, "checker error: " + traceback.format_exc())
        finally:
            if t.conn is not None:
                t.conn.close()
        try:
            h.end_connection(t)
        except CaseFailed as e:
            t.downgrade(FAILED, str(e))
    finally:
        h.after_case(t)
    t.duration = time.monotonic() - start
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    peer = ap.add_mutually_exclusive_group(required=True)
    peer.add_argument("--server-cmd", help="server command; must print 'listening on PORT'")
    peer.add_argument("--url", help="an already running server, ws://host:port/path")
    peer.add_argument("--client-cmd", help="client command; {url} is replaced (or the URL appended)")
    ap.add_argument("--max-message", type=int, default=65536,
                    help="the server's message limit (default 65536)")
    ap.add_argument("--client-max-message", type=int, default=None,
                    help="the client's message limit, if known (then limit cases run)")
    ap.add_argument("--timeout", type=float, default=5.0, help="per-case deadline in seconds (default 5)")
    ap.add_argument("--jobs", type=int, default=1,
                    help="client role: run this many cases at once (each client process runs on its own)")
    ap.add_argument("--cases", help="only cases whose id matches this regular expression")
    ap.add_argument("--json", help="also write a JSON report to this file")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    args = ap.parse_args()

    role = "client" if args.client_cmd else "server"
    cases = [c for c in CASES if c.applies(args, role)
             and (not args.cases or re.match(args.cases + r"$", c.cid))]
    if args.list:
        for c in cases:
            print("%-8s %s" % (c.cid, c.desc))
        return 0

    h = ClientHarness(args) if role == "client" else ServerHarness(args)
    h.start()
    # A server is one process for all cases; its cases stay sequential.
    jobs = max(1, args.jobs) if role == "client" else 1
    idle = queue.Queue()
    idle.put(h)
    for _ in range(jobs - 1):
        idle.put(ClientHarness(args))

    def work(c):
        worker = idle.get()
        try:
            return run_case(worker, c, args)
        finally:
            idle.put(worker)

    stop_check = role == "server" and bool(args.server_cmd)
    print("TAP version 13")
    print("1..%d" % (len(cases) + (1 if stop_check else 0)))
    print("# testing the %s %s" % (role, h.describe()))
    results = []
    counts = {OK: 0, INFORMATIONAL: 0, NON_STRICT: 0, FAILED: 0}
    began = time.monotonic()
    pool = concurrent.futures.ThreadPoolExecutor(jobs)
    futures = [pool.submit(work, c) for c in cases]
    for n, (c, future) in enumerate(zip(cases, futures), 1):
        t = future.result()
        counts[t.status] += 1
        line = "%s %d - %s %s" % ("not ok" if t.status == FAILED else "ok", n, c.cid, c.desc)
        if t.status in (NON_STRICT, INFORMATIONAL):
            line += " [%s]" % t.status
        print(line)
        for note in t.notes:
            for sub in note.splitlines():
                print("#   " + sub)
        if t.status == FAILED and t.conn is not None:
            print("#   sent: " + " | ".join(t.conn.sent_log[-10:]))
            print("#   received: " + " | ".join(t.conn.event_log[-10:]))
        sys.stdout.flush()
        results.append({"id": c.cid, "description": c.desc, "status": t.status,
                        "notes": t.notes, "seconds": round(t.duration, 3)})
    pool.shutdown()
    if stop_check:
        problem = h.stop()
        n = len(cases) + 1
        desc = "the server survived the run and stopped cleanly on SIGTERM"
        if problem:
            counts[FAILED] += 1
            print("not ok %d - %s" % (n, desc))
            for sub in problem.splitlines():
                print("#   " + sub)
        else:
            counts[OK] += 1
            print("ok %d - %s" % (n, desc))
        results.append({"id": "end", "description": desc, "status": FAILED if problem else OK,
                        "notes": [problem] if problem else [], "seconds": 0})
    passed = counts[OK] + counts[INFORMATIONAL] + counts[NON_STRICT]
    print("# %d passed (%d OK, %d NON-STRICT, %d INFORMATIONAL), %d failed, in %.1f s" % (
        passed, counts[OK], counts[NON_STRICT], counts[INFORMATIONAL], counts[FAILED],
        time.monotonic() - began))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"role": role, "peer": h.describe(), "counts": counts, "cases": results}, f, indent=1)
    return 1 if counts[FAILED] else 0


if __name__ == "__main__":
    sys.exit(main())
