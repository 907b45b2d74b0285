"""An app that parses its own command line, as some do at import time:
it must see only the app spec, never unitcorn's options."""
import argparse
import json
import sys

args, _ = argparse.ArgumentParser().parse_known_args()
ARGV = list(sys.argv)


def app(environ, start_response):
    body = json.dumps(ARGV).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
