"""An app whose import leaves a mark, so a test can tell READY=1 came
after the import finished."""
import os
import time

time.sleep(0.2)          # importing takes a while, as real apps do
with open(os.environ["UNITCORN_TEST_MARKER"], "w") as f:
    f.write("imported\n")


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"slow import done\n"]
