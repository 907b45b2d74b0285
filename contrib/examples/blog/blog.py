"""A small Flask blog: the quickstart's example (contrib/quickstart).

Run by blog.ini as supervisor would (gunicorn), which unitcorn-generator
turns into a socket-activated unitcorn service.  Its logging records go to
the journal with their priorities, as unitcorn sends them.
"""

import logging

from flask import Flask, abort, request

logging.basicConfig(level=logging.INFO)
log = logging.getLogger("blog")
app = Flask(__name__)

POSTS = {
    1: ("Hello, systemd", "This blog ran under supervisor with gunicorn. Its INI file is unchanged."),
    2: ("Socket activation", "PID 1 holds the listening socket: a restart refuses no connection."),
    3: ("The journal", "Every request is one journal entry with HTTP_STATUS=, HTTP_PATH= and more."),
}


@app.route("/")
def index():
    log.info("front page for %s", request.remote_addr)
    lines = ["My blog", ""] + ["  /post/%d  %s" % (n, title) for n, (title, _) in sorted(POSTS.items())]
    return "\n".join(lines) + "\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


@app.route("/post/<int:n>")
def post(n):
    if n not in POSTS:
        log.warning("no post %d", n)
        abort(404)
    title, body = POSTS[n]
    return "%s\n\n%s\n" % (title, body), 200, {"Content-Type": "text/plain; charset=utf-8"}
