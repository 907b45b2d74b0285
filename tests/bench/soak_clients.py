"""The traffic of the soak (tests/bench/soak): client processes, each
running some classes of requests in turn until told to stop, and counting
per class what was sent, what was answered as expected and what was not.

Every class checks its answers:
  get-keepalive   50 GETs on one connection: 200 and the right body each
  get-close       one GET with Connection: close (1.1) or plain 1.0: 200, EOF
  post            POSTs of 0-256 KiB (across the 64 KiB spool threshold) by
                  Content-Length or chunked, some with Expect: 100-continue:
                  200 with the body's length and sha256
  pipelined       2-16 requests in one write, a GET with a body that looks
                  like a request among them: answered in order, nothing smuggled
  invalid         one request of INVALID (or a valid one pipelined before
                  it): the expected 4xx, Connection: close, then EOF
  slow-trickle    a GET head or a POST body sent a byte at a time, well
                  within --header-timeout: 200
  slow-timeout    a head never finished: 408 and EOF after --header-timeout
  never-read      a large streamed response to a client with a 4 KiB
                  receive buffer that does not read for 40 s: the server
                  gives up after 30 s (wsgi.c's push timeout; the client
                  gets less than the body, then EOF or a reset)
  large-upload    10-100 MiB POST (Content-Length or chunked): length, sha256
  large-response  10-100 MiB GET: length and content checked
  disconnect      gone mid-head, mid-body or mid-response, by FIN or by RST:
                  nothing expected but the server going on
"""
import hashlib
import os
import random
import socket
import struct
import time

import soak_app

CLASSES = ["get-keepalive", "get-close", "post", "pipelined", "invalid", "slow-trickle", "slow-timeout",
           "never-read", "large-upload", "large-response", "disconnect"]
SENT, EXPECTED, UNEXPECTED = range(3)
MIB = 1024 * 1024
# wsgi.c's SEND_TIMEOUT_MS: how long a worker pushing a streamed body waits
# for a client that does not read (after the app returned, --header-timeout)
PUSH_TIMEOUT = 30

# (raw request, the status it must get; a tuple: any of them)
INVALID = [
    (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400),
    (b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello", 400),
    (b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello", 400),
    (b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello", 400),
    (b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400),
    (b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
    (b"GET / HTTP/1.1\nHost: a\n\n", 400),
    (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x7fc\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    (b"G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"GET /\r\nHost: a\r\n\r\n", (400, 505)),      # no version: HTTP/0.9's form, "not supported" fits too
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),
    (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nHost: a\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(150)) + b"\r\n", 431),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"v" * 9000 + b"\r\n\r\n", 431),
]


class Closed(Exception):
    pass


class Reader:
    """Responses read from a socket: the head parsed, the body hashed as it
    comes (a 100 MiB body is never held)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def fill(self):
        data = self.sock.recv(256 * 1024)
        if not data:
            raise Closed("EOF")
        self.buf += data

    def line(self):
        while (i := self.buf.find(b"\r\n")) < 0:
            if len(self.buf) > 65536:
                raise ValueError("a line over 64 KiB")
            self.fill()
        out = bytes(self.buf[:i])
        del self.buf[:i + 2]
        return out

    def exact(self, n, sink):
        while n:
            if not self.buf:
                self.fill()
            take = self.buf[:n]
            del self.buf[:len(take)]
            sink(take)
            n -= len(take)

    def response(self, head=False, keep=64 * 1024):
        """(status, {lower name: value}, body length, sha256 hex, body if at most keep bytes)."""
        status = int(self.line().split(b" ", 2)[1])
        headers = {}
        while line := self.line():
            name, value = line.split(b":", 1)
            headers[name.decode().lower()] = value.strip().decode("latin-1")
        digest, kept, length = hashlib.sha256(), [], 0

        def sink(data):
            nonlocal length
            digest.update(data)
            length += len(data)
            if length <= keep:
                kept.append(bytes(data))
        if head or status in (204, 304) or status < 200:
            pass
        elif headers.get("transfer-encoding") == "chunked":
            while size := int(self.line().split(b";")[0], 16):
                self.exact(size, sink)
                if self.line():
                    raise ValueError("chunk data not followed by CRLF")
            while self.line():
                pass
        elif "content-length" in headers:
            self.exact(int(headers["content-length"]), sink)
        else:
            try:
                while True:
                    if self.buf:
                        sink(bytes(self.buf))
                        self.buf.clear()
                    self.fill()
            except Closed:
                pass
        return status, headers, length, digest.hexdigest(), b"".join(kept) if length <= keep else None

    def at_eof(self):
        """Whether the peer closed the connection with nothing more sent."""
        if self.buf:
            return False
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return False


class Traffic:
    """One client process: runs its classes round-robin until stop is set."""

    def __init__(self, port, classes, counters, stop, notes, header_timeout, large_pause, seed):
        self.port, self.classes, self.counters = port, classes, counters
        self.stop, self.notes = stop, notes
        self.header_timeout, self.large_pause = header_timeout, large_pause
        self.rng = random.Random(seed)
        self.noted = {}
        self.noise = os.urandom(MIB)        # upload bodies are slices of this

    def count(self, name, what):
        with self.counters.get_lock():
            self.counters[CLASSES.index(name) * 3 + what] += 1

    def note(self, name, text):
        """An unexpected outcome: counted, and the first few described."""
        self.count(name, UNEXPECTED)
        key = (name, text[:50])             # the first 3 of each kind of problem
        self.noted[key] = self.noted.get(key, 0) + 1
        if self.noted[key] > 3 or len(self.noted) > 30:
            return
        try:
            self.notes.put_nowait(f"{name}: {text}")
        except Exception:
            pass

    def connect(self, rcvbuf=None):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(self.header_timeout + 30)
        s.connect(("127.0.0.1", self.port))
        return s

    def pause(self, seconds):
        """Waits seconds, or less if told to stop; False then."""
        return not self.stop.wait(seconds)

    def run(self):
        while not self.stop.is_set():
            for name in self.classes:
                if self.stop.is_set():
                    break
                self.count(name, SENT)
                try:
                    problem = getattr(self, name.replace("-", "_"))()
                except (OSError, Closed, ValueError, IndexError) as e:
                    problem = f"{type(e).__name__}: {e}"
                if problem is None:
                    self.count(name, EXPECTED)
                else:
                    self.note(name, problem)

    # ---- the classes: each returns None when all went as expected, else what did not

    def get_keepalive(self):
        with self.connect() as s:
            r = Reader(s)
            for i in range(50):
                extra = "".join(f"X-H{j}: {self.rng.random()}\r\n" for j in range(self.rng.randrange(8)))
                s.sendall(f"GET /n/{i}?q={i} HTTP/1.1\r\nHost: soak\r\n{extra}\r\n".encode())
                status, _, _, _, body = r.response()
                if status != 200 or body != str(i).encode():
                    return f"request {i}: {status} {body!r}"
        return None

    def get_close(self):
        with self.connect() as s:
            if self.rng.random() < 0.5:
                s.sendall(b"GET / HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")
            else:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            r = Reader(s)
            status, _, _, _, body = r.response()
            if status != 200 or body != b"soak\n":
                return f"{status} {body!r}"
            if not r.at_eof():
                return "not closed after the answer"
        return None

    def post_once(self, s, r, size):
        start = self.rng.randrange(MIB - size) if size < MIB else 0
        body = self.noise[start:start + size]
        chunked = self.rng.random() < 0.3
        # (without a body to come, the server may answer at once: RFC 9110 10.1.1)
        expect = (size > 0 or chunked) and self.rng.random() < 0.2
        head = "POST /echo HTTP/1.1\r\nHost: soak\r\n"
        head += "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {size}\r\n"
        head += "Expect: 100-continue\r\n\r\n" if expect else "\r\n"
        s.sendall(head.encode())
        if expect:
            status, _, _, _, _ = r.response()
            if status != 100:
                return f"{status} instead of 100 Continue"
        if chunked:
            pos = 0
            while pos < size:
                n = min(self.rng.randrange(1, 70000), size - pos)
                s.sendall(b"%x\r\n" % n + body[pos:pos + n] + b"\r\n")
                pos += n
            s.sendall(b"0\r\n\r\n")
        else:
            s.sendall(body)
        status, _, _, _, answer = r.response()
        want = f"{size} {hashlib.sha256(body).hexdigest()}".encode()
        if status != 200 or answer != want:
            return f"{status} {answer!r} for {size} bytes (chunked {chunked}, expect {expect})"
        return None

    def post(self):
        with self.connect() as s:
            r = Reader(s)
            for _ in range(5):
                size = self.rng.choice([0, 1, 100, 4096, 65535, 65536, 65537, self.rng.randrange(256 * 1024)])
                problem = self.post_once(s, r, size)
                if problem:
                    return problem
        return None

    def pipelined(self):
        n = self.rng.randrange(2, 17)
        smuggle = self.rng.randrange(n)
        parts = []
        for i in range(n):
            last = "Connection: close\r\n" if i == n - 1 else ""
            if i == smuggle:
                hidden = b"GET /n/666 HTTP/1.1\r\nHost: soak\r\n\r\n"
                parts.append(f"GET /n/{i} HTTP/1.1\r\nHost: soak\r\n{last}Content-Length: {len(hidden)}\r\n\r\n"
                             .encode() + hidden)
            else:
                parts.append(f"GET /n/{i} HTTP/1.1\r\nHost: soak\r\n{last}\r\n".encode())
        with self.connect() as s:
            s.sendall(b"".join(parts))
            r = Reader(s)
            for i in range(n):
                status, _, _, _, body = r.response()
                if status != 200 or body != str(i).encode():
                    return f"answer {i} of {n}: {status} {body!r}"
            if not r.at_eof():
                return "not closed after the last answer"
        return None

    def invalid(self):
        raw, want = self.rng.choice(INVALID)
        before = self.rng.random() < 0.3
        with self.connect() as s:
            if before:
                raw = b"GET /n/7 HTTP/1.1\r\nHost: soak\r\n\r\n" + raw
            s.sendall(raw)
            r = Reader(s)
            if before:
                status, _, _, _, body = r.response()
                if status != 200 or body != b"7":
                    return f"the valid request before {raw[-60:]!r}: {status} {body!r}"
            status, headers, _, _, _ = r.response()
            if status not in (want if isinstance(want, tuple) else (want,)) or headers.get("connection") != "close":
                return f"{raw[:60]!r}: {status} (want {want}), Connection: {headers.get('connection')}"
            if not r.at_eof():
                return f"{raw[:60]!r}: not closed after the {status}"
        return None

    def trickle(self, s, data, gap):
        for i in range(len(data)):
            s.send(data[i:i + 1])
            if not self.pause(gap):
                return False
        return True

    def slow_trickle(self):
        with self.connect() as s:
            if self.rng.random() < 0.5:
                head = b"GET /n/5 HTTP/1.1\r\nHost: soak\r\nUser-Agent: trickle\r\n\r\n"
                # the whole head within half of --header-timeout
                if not self.trickle(s, head, self.header_timeout / 2 / len(head)):
                    return None
                want = b"5"
            else:
                body = bytes(self.rng.randrange(256) for _ in range(100))
                s.sendall(b"POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: 100\r\n\r\n")
                # a byte every tenth of --header-timeout: never silent long enough
                if not self.trickle(s, body, self.header_timeout / 10):
                    return None
                want = f"100 {hashlib.sha256(body).hexdigest()}".encode()
            status, _, _, _, answer = Reader(s).response()
            if status != 200 or answer != want:
                return f"{status} {answer!r}"
        return None

    def slow_timeout(self):
        with self.connect() as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: soak\r\n")
            r = Reader(s)
            s.settimeout(1.0)
            deadline = time.monotonic() + self.header_timeout + 30
            while time.monotonic() < deadline and not self.stop.is_set():
                try:
                    s.send(b"X")          # never a complete header line
                    r.fill()              # the server's answer, at most a second from now
                    break
                except socket.timeout:
                    continue
                except (BrokenPipeError, ConnectionResetError) as e:
                    return f"{type(e).__name__} instead of a 408"
            else:
                return None if self.stop.is_set() else "still open long after --header-timeout"
            s.settimeout(10)
            status, headers, _, _, _ = r.response()
            if status != 408 or headers.get("connection") != "close":
                return f"{status} instead of 408, Connection: {headers.get('connection')}"
            # bytes sent meanwhile may turn the server's close into a reset: not counted
        return None

    def never_read(self):
        kib = 32 * 1024
        with self.connect(rcvbuf=4096) as s:
            s.sendall(f"GET /big/{kib} HTTP/1.1\r\nHost: soak\r\n\r\n".encode())
            if not self.pause(max(self.header_timeout, PUSH_TIMEOUT) + 10):
                return None
            s.settimeout(10)
            got = 0
            try:
                while data := s.recv(256 * 1024):
                    got += len(data)
            except ConnectionResetError:
                pass
            if got >= kib * 1024:
                return f"the whole {kib} KiB arrived to a client that did not read"
        return None

    def large_upload(self):
        size = self.rng.randrange(10, 101) * MIB + self.rng.randrange(MIB)
        chunked = self.rng.random() < 0.3
        digest = hashlib.sha256()
        with self.connect() as s:
            head = "POST /echo HTTP/1.1\r\nHost: soak\r\n"
            head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {size}\r\n\r\n"
            s.sendall(head.encode())
            left = size
            while left:
                piece = self.noise[:min(left, MIB)]
                digest.update(piece)
                s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                left -= len(piece)
            if chunked:
                s.sendall(b"0\r\n\r\n")
            status, _, _, _, answer = Reader(s).response()
        self.pause(self.large_pause)
        want = f"{size} {digest.hexdigest()}".encode()
        if status != 200 or answer != want:
            return f"{status} {answer!r} for {size} bytes (chunked {chunked})"
        return None

    def large_response(self):
        kib = self.rng.randrange(10 * 1024, 100 * 1024 + 1)
        block = soak_app.pattern(kib)
        want = hashlib.sha256()
        for _ in range(kib // 64):
            want.update(block)
        want.update(block[:kib * 1024 % len(block)])
        with self.connect() as s:
            s.sendall(f"GET /big/{kib} HTTP/1.1\r\nHost: soak\r\n\r\n".encode())
            status, _, length, sha, _ = Reader(s).response(keep=0)
        self.pause(self.large_pause)
        if status != 200 or length != kib * 1024 or sha != want.hexdigest():
            return f"{status}, {length} bytes of {kib} KiB, sha256 {'ok' if sha == want.hexdigest() else 'wrong'}"
        return None

    def disconnect(self):
        how = self.rng.randrange(5)
        with self.connect() as s:
            if self.rng.random() < 0.5:
                # RST instead of FIN at close
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            if how == 0:        # mid-head
                s.sendall(b"GET /n/1 HTTP/1.1\r\nHost: so")
            elif how == 1:      # mid-body, past the spool threshold
                s.sendall(b"POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: 1048576\r\n\r\n")
                s.sendall(self.noise[:200 * 1024])
            elif how == 2:      # mid-chunked-body
                s.sendall(b"POST /echo HTTP/1.1\r\nHost: soak\r\nTransfer-Encoding: chunked\r\n\r\n")
                s.sendall(b"10000\r\n" + self.noise[:0x10000] + b"\r\n10000\r\n" + self.noise[:1000])
            elif how == 3:      # mid-response
                s.sendall(b"GET /big/20480 HTTP/1.1\r\nHost: soak\r\n\r\n")
                Reader(s).fill()
            else:               # before the answer of a request already sent
                s.sendall(b"GET /big/2048 HTTP/1.1\r\nHost: soak\r\n\r\n")
        return None


def run(*args):
    """multiprocessing's target."""
    Traffic(*args).run()
