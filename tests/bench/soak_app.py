"""The Flask app of the soak (tests/bench/soak).

Routes:
  GET  /              a short greeting
  GET  /n/<i>         the text of i (the order check of pipelined requests)
  POST /echo          the body's length and sha256, read in 64 KiB pieces
                      (never the whole body in memory): "LENGTH SHA256"
  GET  /big/<kib>     a body of kib KiB, streamed in 64 KiB blocks of
                      pattern(), with its Content-Length
"""
import hashlib

from flask import Flask, Response, request

app = Flask(__name__)

BLOCK = 64 * 1024


def pattern(kib):
    """The 64 KiB block /big/<kib> repeats: its bytes depend on kib, so a
    client can tell one response from another."""
    seed = hashlib.sha256(str(kib).encode()).digest()
    return (seed * (BLOCK // len(seed) + 1))[:BLOCK]


@app.get("/")
def index():
    return "soak\n"


@app.get("/n/<int:i>")
def number(i):
    return str(i)


@app.post("/echo")
def echo():
    digest = hashlib.sha256()
    length = 0
    while piece := request.stream.read(BLOCK):
        digest.update(piece)
        length += len(piece)
    return f"{length} {digest.hexdigest()}"


@app.get("/big/<int:kib>")
def big(kib):
    block = pattern(kib)
    total = kib * 1024

    def body():
        left = total
        while left > 0:
            yield block[:left]
            left -= BLOCK

    return Response(body(), mimetype="application/octet-stream", headers={"Content-Length": str(total)})
