"""Issuing authorizations through stripe-python's own test helpers, decided by a webhook
receiver that verifies every request with stripe-python's WebhookSignature, unchanged."""

import json
import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

stripe.api_base = os.environ["TIERSPAY_MOCK_URL"]
stripe.api_key = "sk_test_tierspay"

ADDRESS = {"line1": "1 rue de la Paix", "city": "Paris", "postal_code": "75002", "country": "FR"}


class Hook:
    """A loopback receiver: checks Stripe-Signature with the official library, approves."""

    def __init__(self):
        self.secret = ""
        self.events = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    stripe.WebhookSignature.verify_header(
                        body.decode(), self.headers.get("Stripe-Signature", ""), hook.secret, tolerance=300
                    )
                except stripe.error.SignatureVerificationError:
                    self.send_response(400)
                    self.end_headers()
                    return
                event = json.loads(body)
                hook.events.append(event)
                answer = json.dumps({"approved": True}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def hook():
    h = Hook()
    disabled = []
    for e in stripe.WebhookEndpoint.list(limit=100).auto_paging_iter():
        if e.status == "enabled":
            stripe.WebhookEndpoint.modify(e.id, disabled=True)
            disabled.append(e.id)
    we = stripe.WebhookEndpoint.create(url=h.url, enabled_events=["issuing_authorization.request"])
    assert we.secret.startswith("whsec_")
    h.secret = we.secret
    stripe.Topup.create(amount=1_000_000, currency="eur", destination_balance="issuing")
    yield h
    stripe.WebhookEndpoint.delete(we.id)
    for e in disabled:
        stripe.WebhookEndpoint.modify(e, disabled=False)
    h.server.shutdown()


@pytest.fixture()
def card():
    holder = stripe.issuing.Cardholder.create(
        name="Membre Auth", type="individual", billing={"address": ADDRESS},
        metadata={"member_ref_hash": uuid.uuid4().hex},
    )
    return stripe.issuing.Card.create(
        cardholder=holder.id, currency="eur", type="virtual", status="active",
        spending_controls={"allowed_categories": ["doctors"], "allowed_merchant_countries": ["FR"]},
    )


def tap(card, **extra):
    return stripe.issuing.Authorization.TestHelpers.create(
        card=card.id, amount=2500, currency="eur",
        merchant_data={"category": "doctors", "name": "Dr Martin", "city": "Paris", "country": "FR"},
        **extra,
    )


def test_a_tap_is_approved_by_the_signed_webhook_and_captured(hook, card):
    auth = tap(card)
    assert isinstance(auth, stripe.issuing.Authorization)
    assert auth.id.startswith("iauth_")
    assert auth.approved is True and auth.status == "pending"
    assert auth.request_history[-1].reason == "webhook_approved"
    assert auth.card.id == card.id
    assert any(e["type"] == "issuing_authorization.request" and e["data"]["object"]["id"] == auth.id
               for e in hook.events)

    captured = stripe.issuing.Authorization.TestHelpers.capture(auth.id, capture_amount=2000)
    assert captured.status == "closed"
    txn = captured.transactions[0]
    assert txn.object == "issuing.transaction" and txn.amount == -2000
    assert stripe.issuing.Transaction.retrieve(txn.id).authorization == auth.id
    listed = stripe.issuing.Authorization.list(card=card.id)
    assert [a.id for a in listed.data] == [auth.id]


def test_spending_controls_decline_without_asking(hook, card):
    asked = len(hook.events)
    auth = stripe.issuing.Authorization.TestHelpers.create(
        card=card.id, amount=2500, merchant_data={"category": "health_and_beauty_spas", "country": "FR"}
    )
    assert auth.approved is False
    assert auth.request_history[-1].reason == "spending_controls"
    assert len(hook.events) == asked


def test_reverse_expire_increment(hook, card):
    a = tap(card)
    a = stripe.issuing.Authorization.TestHelpers.increment(a.id, increment_amount=500)
    assert a.amount == 3000
    a = stripe.issuing.Authorization.TestHelpers.reverse(a.id, reverse_amount=1000)
    assert a.amount == 2000 and a.status == "pending"
    a = stripe.issuing.Authorization.TestHelpers.expire(a.id)
    assert a.status == "expired"


def test_bad_taps_name_the_field(hook, card):
    with pytest.raises(stripe.error.InvalidRequestError) as e:
        stripe.issuing.Authorization.TestHelpers.create(card=card.id, amount=0)
    assert e.value.param == "amount"
    with pytest.raises(stripe.error.InvalidRequestError) as e:
        stripe.issuing.Authorization.TestHelpers.create(card=card.id, amount=100, merchant_data={"country": "fr"})
    assert e.value.param == "merchant_data[country]"
