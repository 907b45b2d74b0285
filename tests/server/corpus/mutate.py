#!/usr/bin/python3
"""On demand: random mutations of the corpus, each delivered three ways.

    UNITCORN=build/server/unitcorn tests/server/corpus/mutate.py [--seed N] [--count N] [--threads N]

Each case's bytes get one to four random edits (a byte replaced, inserted
or deleted, from an alphabet of framing bytes: CR, LF, SP, HTAB, ':', ';',
digits, NUL, DEL, 0x80...).  The result is sent whole, byte by byte and in
random pieces, each time on a new connection that we then half-close; the
answers (statuses, the app's reports without REMOTE_PORT) must be the same
all three ways, every error must carry "Connection: close", and the
connection must end with a FIN, never a reset or silence.  Prints every
difference and exits 1 if there was one, or a sanitizer report in the
server's output.  Nothing is expected of a mutated request but that: the
parser's answer cannot depend on how the bytes were split.  (Not run by
meson test: a few thousand mutations take minutes.)"""
import argparse
import io
import json
import os
import random
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import decode                                       # noqa: E402
from conftest import Server, read_response         # noqa: E402

ALPHABET = b"\r\n \t:;,=\"0123456789aAfFxX-_/?*\x00\x7f\x80\xa0\x0b\x0cGETHPchunkedContent-LengthTransfer-Encoding"


def mutate(rng, raw):
    b = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        op = rng.choice("rid")
        if op == "i":
            pos = rng.randrange(len(b) + 1)
            b[pos:pos] = bytes([rng.choice(ALPHABET)])
        elif b:
            pos = rng.randrange(len(b))
            if op == "r":
                b[pos] = rng.choice(ALPHABET)
            else:
                del b[pos]
    return bytes(b)


def outcome(port, parts):
    """What the server answered to parts: a list of (status, report or
    Connection header), ending with "reset" or "timeout" if so."""
    data, end = b"", None
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for p in parts:
                s.sendall(p)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass            # it refused and closed: what it said is read below
        try:
            while (d := s.recv(65536)):
                data += d
        except ConnectionResetError:
            end = "reset"
        except socket.timeout:
            end = "timeout"
    f, out = io.BytesIO(data), []
    while True:
        try:
            r = read_response(f)
        except Exception as e:            # noqa: BLE001: a malformed response is a finding
            out.append(("malformed", repr(e)))
            break
        if r is None:
            break
        if r.status < 200:
            continue                      # 100 Continue: depends on timing
        if r.status == 200:
            report = json.loads(r.body)
            report["environ"].pop("REMOTE_PORT", None)
            out.append((200, report))
        else:
            out.append((r.status, r.header("Connection")))
    if end:
        out.append(end)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--threads", default="")
    args = ap.parse_args()
    env = {"UNITCORN_TEST_THREADS": args.threads}
    srv = Server("corpus:app", ["--limit-request-body", "100000"], env=env).wait_ready()
    cases = decode.all_cases()
    rng = random.Random(args.seed)
    problems = 0
    try:
        for _ in range(args.count):
            case = rng.choice(cases)
            raw = mutate(rng, case.raw) or b"\r\n"
            cuts = sorted(rng.sample(range(1, len(raw)), min(len(raw) - 1, rng.randint(1, 8)))) if len(raw) > 1 else []
            ways = {
                "whole": outcome(srv.port, [raw]),
                "bytes": outcome(srv.port, [raw[i:i + 1] for i in range(len(raw))]),
                "random": outcome(srv.port, [raw[a:b] for a, b in zip([0] + cuts, cuts + [len(raw)])]),
            }
            bad = [w for w in ways if ways[w] != ways["whole"]]
            bad += [f"{w}: no Connection: close" for w in ways for st in ways[w]
                    if isinstance(st, tuple) and isinstance(st[0], int) and st[0] != 200 and st[1] != "close"]
            bad += [f"{w}: {ways[w][-1]}" for w in ways if ways[w] and ways[w][-1] in ("reset", "timeout")]
            if bad:
                problems += 1
                print(f"{case.name} mutated: {raw!r}\n  {bad}")
                for w, o in ways.items():
                    print(f"  {w}: {str(o)[:300]}")
    finally:
        srv.stop()
    out = srv.output()
    sanitizer = any(m in out for m in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer"))
    if sanitizer:
        print(out[-5000:])
    print(f"{args.count} mutations (seed {args.seed}), each 3 ways: {problems} with differences; "
          f"sanitizer reports: {'yes' if sanitizer else 'none'}")
    return 1 if problems or sanitizer else 0


if __name__ == "__main__":
    sys.exit(main())
