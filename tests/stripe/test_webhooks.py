"""Webhook deliveries checked by the official stripe-python library's own signature check,
`stripe.Webhook.construct_event(payload, sig_header, secret)`, as an insurer's receiver would
run it: a plain delivery, during a secret roll (two v1, either secret verifies), and after the
old secret expired (the old secret no longer verifies).

The mock's URL comes from TIERSPAY_MOCK_URL (tests/stripe/run.sh starts the mock and sets it).
"""

import http.server
import json
import os
import queue
import threading
import urllib.request

import pytest
import stripe

URL = os.environ["TIERSPAY_MOCK_URL"]
KEY = "sk_test_tierspay"

stripe.api_base = URL
stripe.api_key = KEY


class Receiver:
    """A loopback HTTP server that answers 200 and keeps each delivery's raw body and header."""

    def __init__(self):
        self.got = queue.Queue()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                outer.got.put((body, self.headers.get("Stripe-Signature")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next_of(self, event_type, timeout=20):
        while True:
            body, header = self.got.get(timeout=timeout)
            if json.loads(body)["type"] == event_type:
                return body, header

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def roll(endpoint_id, expires_in):
    """The mock's roll of a secret (Stripe does it from the Dashboard: no client method)."""
    data = ("expires_in=%d" % expires_in).encode()
    request = urllib.request.Request(
        "%s/v1/webhook_endpoints/%s/roll_secret" % (URL, endpoint_id),
        data=data,
        headers={"Authorization": "Bearer " + KEY},
        method="POST",
    )
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read())


def test_a_delivery_verifies_with_construct_event(receiver):
    endpoint = stripe.WebhookEndpoint.create(url=receiver.url, enabled_events=["customer.*"])
    assert endpoint.secret.startswith("whsec_")
    customer = stripe.Customer.create(name="Mutuelle Py")
    body, header = receiver.next_of("customer.created")
    event = stripe.Webhook.construct_event(body, header, endpoint.secret)
    assert isinstance(event, stripe.Event)
    assert event.type == "customer.created"
    assert event.data.object.id == customer.id
    # Another secret, or an altered body, is refused by the library.
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, header, "whsec_not_this_one")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.replace(b"Mutuelle", b"Mutuelles"), header, endpoint.secret)
    stripe.WebhookEndpoint.delete(endpoint.id)


def test_during_a_roll_both_secrets_verify_then_the_old_one_stops(receiver):
    endpoint = stripe.WebhookEndpoint.create(url=receiver.url, enabled_events=["customer.created"])
    old = endpoint.secret
    rolled = roll(endpoint.id, 3600)
    new = rolled["secret"]
    assert new != old and new.startswith("whsec_")
    stripe.Customer.create(name="Pendant le roulement")
    body, header = receiver.next_of("customer.created")
    assert header.count("v1=") == 2
    for secret in (old, new):
        event = stripe.Webhook.construct_event(body, header, secret)
        assert event.type == "customer.created"
    # No overlap: only the newest secret signs from now on.
    newest = roll(endpoint.id, 0)["secret"]
    stripe.Customer.create(name="Après")
    body, header = receiver.next_of("customer.created")
    assert header.count("v1=") == 1
    assert stripe.Webhook.construct_event(body, header, newest).type == "customer.created"
    for retired in (old, new):
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(body, header, retired)
    stripe.WebhookEndpoint.delete(endpoint.id)
