"""An app that keeps start_response and write() past its request, calls
start_response by keyword, and shows its environ: what the server reuses
between requests (the start_response object, cached str objects) must
never leak one request's state into another's."""
import json

kept = {}


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/keep":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        kept["start_response"], kept["write"] = start_response, write
        return [b"kept"]
    if path == "/use-kept":
        outcome = {}
        for name, call in (("start_response", lambda: kept["start_response"]("200 OK", [])),
                           ("write", lambda: kept["write"](b"late"))):
            try:
                call()
                outcome[name] = "no error"
            except RuntimeError as e:
                outcome[name] = "RuntimeError: %s" % e
        start_response(status="200 OK", headers=[("Content-Type", "application/json")])
        return [json.dumps(outcome).encode()]
    if path == "/bad-keyword":
        start_response("200 OK", [], colour="blue")
        return [b"unreachable"]
    if path == "/exc-info-keyword":
        start_response("200 OK", [])
        try:
            raise ValueError("replaced")
        except ValueError:
            import sys
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], exc_info=sys.exc_info())
        return [b"replaced"]
    env = {k: v for k, v in environ.items() if isinstance(v, str)}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(env).encode()]
