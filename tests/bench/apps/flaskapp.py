"""The small Flask app of the server benchmark: a route with a parameter and
a JSON answer, what a model endpoint or an API view does at its simplest."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/")
def index():
    return "Hello, World!"


@app.route("/items/<int:item>")
def item(item):
    return jsonify(id=item, name="item %d" % item)
