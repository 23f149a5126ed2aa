#!/usr/bin/env python3
"""Tiny health checks for test/services/services.sh (stdlib only).

  healthcheck.py mongo HOST PORT   -> sends a real MongoDB OP_MSG {ping: 1} and
                                      expects {ok: 1}
  healthcheck.py http URL          -> GET URL, expects HTTP 200

Exit code 0 means healthy; anything else means not (yet) healthy.
Nothing but a short reason is printed, never payloads.
"""

import socket
import struct
import sys
import urllib.request

TIMEOUT = 2.0


def _cstring(s: str) -> bytes:
    return s.encode() + b"\x00"


def _bson_doc(elements: list[bytes]) -> bytes:
    body = b"".join(elements) + b"\x00"
    return struct.pack("<i", len(body) + 4) + body


def _bson_ok(doc: bytes) -> bool:
    """Return True if the top-level BSON document has ok == 1."""
    pos = 4
    end = struct.unpack("<i", doc[:4])[0] - 1
    while pos < end:
        etype = doc[pos]
        pos += 1
        nul = doc.index(b"\x00", pos)
        name = doc[pos:nul].decode()
        pos = nul + 1
        if etype == 0x01:  # double
            val = struct.unpack("<d", doc[pos:pos + 8])[0]
            pos += 8
        elif etype == 0x10:  # int32
            val = struct.unpack("<i", doc[pos:pos + 4])[0]
            pos += 4
        elif etype == 0x12:  # int64
            val = struct.unpack("<q", doc[pos:pos + 8])[0]
            pos += 8
        elif etype == 0x08:  # bool
            val = doc[pos] == 1
            pos += 1
        elif etype == 0x02:  # string
            ln = struct.unpack("<i", doc[pos:pos + 4])[0]
            val = None
            pos += 4 + ln
        elif etype in (0x03, 0x04):  # document / array
            ln = struct.unpack("<i", doc[pos:pos + 4])[0]
            val = None
            pos += ln
        else:
            # Unknown type: we can't skip it safely; give up on the rest.
            return False
        if name == "ok":
            return bool(val) and val == 1
    return False


def mongo_ping(host: str, port: int) -> None:
    doc = _bson_doc([
        b"\x10" + _cstring("ping") + struct.pack("<i", 1),
        b"\x02" + _cstring("$db") + struct.pack("<i", len("admin") + 1) + _cstring("admin"),
    ])
    payload = struct.pack("<I", 0) + b"\x00" + doc  # flagBits, section kind 0
    msg = struct.pack("<iiii", 16 + len(payload), 1, 0, 2013) + payload  # OP_MSG

    with socket.create_connection((host, port), timeout=TIMEOUT) as s:
        s.settimeout(TIMEOUT)
        s.sendall(msg)
        buf = b""
        while len(buf) < 4 or len(buf) < struct.unpack("<i", buf[:4])[0]:
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed before full reply")
            buf += chunk

    opcode = struct.unpack("<i", buf[12:16])[0]
    if opcode != 2013:
        raise RuntimeError(f"unexpected reply opcode {opcode}")
    # header(16) + flagBits(4) + section kind(1)
    if buf[20] != 0:
        raise RuntimeError("unexpected reply section kind")
    if not _bson_ok(buf[21:]):
        raise RuntimeError("ping reply is not ok:1")


def http_ok(url: str) -> None:
    with urllib.request.urlopen(url, timeout=TIMEOUT) as resp:  # noqa: S310 (loopback only)
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}")


def main(argv: list[str]) -> int:
    try:
        if len(argv) == 4 and argv[1] == "mongo":
            mongo_ping(argv[2], int(argv[3]))
        elif len(argv) == 3 and argv[1] == "http":
            http_ok(argv[2])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except Exception as e:  # noqa: BLE001
        print(f"unhealthy: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
