"""An app that parses its own command line strictly at import, as
management-style apps do: argparse.parse_args() and optparse exit on an
option they do not know, and its own -w/-b/--timeout would take
unitcorn's values if it saw them."""
import argparse
import json
import optparse
import sys

parser = argparse.ArgumentParser(description="the app's own options")
parser.add_argument("-w", "--workers", default="app-default")
parser.add_argument("-b", "--bind", default="app-default")
parser.add_argument("--timeout", default="app-default")
ARGS = vars(parser.parse_args())          # SystemExit(2) on anything unknown

opt = optparse.OptionParser()
opt.add_option("-c", "--config", default="app-default")
OPTS, REST = opt.parse_args()
SEEN = {"argv": list(sys.argv), "argparse": ARGS, "optparse": vars(OPTS), "rest": REST}


def app(environ, start_response):
    body = json.dumps(SEEN).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
