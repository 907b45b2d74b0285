"""A small Flask app for the server tests."""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/")
def index():
    return "Hello from Flask!"


@app.route("/hello/<name>")
def hello(name):
    return jsonify(greeting=f"Hello, {name}!", args=request.args.to_dict())


@app.route("/json", methods=["POST"])
def echo_json():
    return jsonify(received=request.get_json())
