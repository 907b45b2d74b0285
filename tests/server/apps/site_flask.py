"""The three-site contract of test_apps.py (see site_wsgi.py) as a Flask
app: routes, JSON, a response streamed with stream_with_context (the
generator reads the request while it runs), request.get_data() and
request.form, Flask's own 404 and 500."""
from flask import Flask, Response, jsonify, request, stream_with_context

NAME = "flask"
app = Flask(__name__)


@app.route("/")
def index():
    return Response(f"hello from {NAME}", mimetype="text/plain")


@app.route("/json")
def as_json():
    return jsonify(app=NAME, args=request.args.to_dict())


@app.route("/stream")
def stream():
    @stream_with_context
    def generate():
        n = int(request.args.get("n", "3"))   # needs the request context
        for i in range(n):
            yield f"{i} of {n}\n"
    return Response(generate(), mimetype="text/plain")


@app.route("/write")
def write():
    return "written, then returned"           # Flask has no write(): same text


@app.route("/upload", methods=["POST"])
def upload():
    return Response(request.get_data(), mimetype="application/octet-stream")


@app.route("/form", methods=["POST"])
def form():
    return jsonify(request.form.to_dict())


@app.route("/error")
def error():
    raise RuntimeError(f"{NAME} site failed on purpose")
