"""A webhook receiver that checks the CRM's signature: the standard library only.

    python docs/examples/webhook_receiver.py 8001 whsec_...   # port, the endpoint's secret

Each request carries X-CRM-Timestamp (Unix seconds) and X-CRM-Signature ("v1=" and the hex
HMAC-SHA256 of "<timestamp>.<body>" under the secret). Refuse a wrong signature or an old
timestamp (a replay), answer 2xx quickly, and ignore an X-CRM-Event-Id already handled:
the CRM delivers at least once. See docs/webhooks.md.
"""

import hashlib
import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 300  # how old a signed request may be


def signature_is_valid(
    *, secret: str, timestamp: str, signature: str, body: bytes, now: float | None = None
) -> bool:
    """True when `signature` signs `timestamp.body` with `secret` and is recent."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return False
    if age > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    # A header may carry several signatures ("v1=...,v1=..."): any one that matches is enough.
    offered = [part.strip()[3:] for part in signature.split(",") if part.strip().startswith("v1=")]
    return any(hmac.compare_digest(expected.hexdigest(), value) for value in offered)


class Receiver(BaseHTTPRequestHandler):
    secret = ""
    seen: set[str] = set()  # use your database in production

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if not signature_is_valid(
            secret=self.secret,
            timestamp=self.headers.get("X-CRM-Timestamp", ""),
            signature=self.headers.get("X-CRM-Signature", ""),
            body=body,
        ):
            self.send_response(401)
            self.end_headers()
            return
        event = json.loads(body)
        if event["id"] not in self.seen:  # a redelivery of a handled event is acknowledged only
            self.seen.add(event["id"])
            print(event["type"], event["data"])  # do the work (or queue it) here
        self.send_response(204)
        self.end_headers()


if __name__ == "__main__":
    port, Receiver.secret = int(sys.argv[1]), sys.argv[2]
    ThreadingHTTPServer(("127.0.0.1", port), Receiver).serve_forever()
