"""The official stripe-python client, unchanged, against a running tierspay-mock.

The mock's URL comes from TIERSPAY_MOCK_URL (tests/stripe/run.sh starts the mock and sets it).
"""

import os
import uuid

import pytest
import stripe

URL = os.environ["TIERSPAY_MOCK_URL"]
KEY = "sk_test_tierspay"

stripe.api_base = URL
stripe.api_key = KEY
# stripe-python retries POSTs with an automatic Idempotency-Key: the mock must cope with both.
stripe.max_network_retries = 2

ADDRESS = {"line1": "1 rue de la Paix", "city": "Paris", "postal_code": "75002", "country": "FR"}
HEALTHCARE = ["doctors", "dentists_orthodontists", "drug_stores_and_pharmacies", "hospitals"]


def new_cardholder(name="Membre Py"):
    return stripe.issuing.Cardholder.create(
        name=name,
        type="individual",
        billing={"address": ADDRESS},
        metadata={"member_ref_hash": uuid.uuid4().hex},
    )


def new_card(cardholder_id, **extra):
    return stripe.issuing.Card.create(
        cardholder=cardholder_id,
        currency="eur",
        type="virtual",
        spending_controls={
            "allowed_categories": HEALTHCARE,
            "allowed_merchant_countries": ["FR"],
            "spending_limits": [
                {"amount": 150000, "interval": "per_authorization"},
                {"amount": 300000, "interval": "daily"},
                {"amount": 20000, "interval": "daily", "categories": ["doctors"]},
            ],
        },
        **extra,
    )


def test_cardholder_create_retrieve_modify_list():
    holder = new_cardholder()
    assert holder.id.startswith("ich_")
    assert isinstance(holder, stripe.issuing.Cardholder)
    assert holder.billing.address.city == "Paris"
    assert holder.livemode is False

    got = stripe.issuing.Cardholder.retrieve(holder.id)
    assert got.name == "Membre Py"
    modified = stripe.issuing.Cardholder.modify(holder.id, email="py@example.invalid", metadata={"tier": "gold"})
    assert modified.email == "py@example.invalid"
    assert modified.metadata["tier"] == "gold"
    assert "member_ref_hash" in modified.metadata

    listed = stripe.issuing.Cardholder.list(email="py@example.invalid")
    assert [c.id for c in listed.data] == [holder.id]


def test_virtual_card_with_spending_controls_expand_list_and_status():
    holder = new_cardholder("Membre Card")
    card = new_card(holder.id, status="active", metadata={"purpose": "health"})
    assert isinstance(card, stripe.issuing.Card)
    assert card.id.startswith("ic_")
    assert card.status == "active"
    assert card.brand == "Visa"
    assert card.currency == "eur"
    assert len(card.last4) == 4
    controls = card.spending_controls
    assert controls.allowed_categories == HEALTHCARE
    assert controls.allowed_merchant_countries == ["FR"]
    assert [(l.amount, l.interval) for l in controls.spending_limits] == [
        (150000, "per_authorization"),
        (300000, "daily"),
        (20000, "daily"),
    ]
    assert controls.spending_limits[2].categories == ["doctors"]
    assert card.wallets.apple_pay.eligible is True
    assert "number" not in card
    # Stripe embeds the cardholder in every card, as the library types it.
    assert isinstance(card.cardholder, stripe.issuing.Cardholder)

    expanded = stripe.issuing.Card.retrieve(card.id, expand=["cardholder"])
    assert isinstance(expanded.cardholder, stripe.issuing.Cardholder)
    assert expanded.cardholder.id == holder.id
    secret = stripe.issuing.Card.retrieve(card.id, expand=["number", "cvc"])
    assert secret.number.endswith(card.last4) and len(secret.cvc) == 3

    others = [new_card(holder.id).id for _ in range(3)]
    page = stripe.issuing.Card.list(cardholder=holder.id, limit=2)
    assert page.has_more is True
    assert [c.id for c in page.data] == [others[2], others[1]]
    every = [c.id for c in stripe.issuing.Card.list(cardholder=holder.id, limit=2).auto_paging_iter()]
    assert every == [others[2], others[1], others[0], card.id]

    frozen = stripe.issuing.Card.modify(card.id, status="inactive")
    assert frozen.status == "inactive"
    canceled = stripe.issuing.Card.modify(others[0], status="canceled", cancellation_reason="lost")
    assert canceled.status == "canceled" and canceled.cancellation_reason == "lost"

    events = stripe.Event.list(type="issuing_card.updated", limit=5)
    assert events.data[0].type == "issuing_card.updated"
    assert events.data[0].data.object.id == others[0]
    assert events.data[0].data.previous_attributes.status == "inactive"


def test_tokens_after_google_pay_provisioning():
    holder = new_cardholder("Membre Token")
    card = new_card(holder.id, status="active")
    assert stripe.issuing.Token.list(card=card.id).data == []

    client = stripe.StripeClient(KEY, base_addresses={"api": URL})
    response = client.raw_request(
        "post",
        f"/v1/issuing/cards/{card.id}/google_pay_provisioning",
        wallet_account_id="wallet-py",
        device_id="device-py",
    )
    push = client.deserialize(response, api_mode="V1")
    assert push.network == 4 and push.last_digits == card.last4

    tokens = stripe.issuing.Token.list(card=card.id)
    assert len(tokens.data) == 1
    token = tokens.data[0]
    assert isinstance(token, stripe.issuing.Token)
    assert token.id == push.token
    assert token.status == "requested"
    assert token.wallet_provider == "google_pay"
    assert token.network_data.wallet_status == "pending"
    assert stripe.issuing.Token.retrieve(token.id).last4 != card.last4

    deleted = stripe.issuing.Token.modify(token.id, status="deleted")
    assert deleted.status == "deleted"


def test_stripe_client_style_and_errors():
    client = stripe.StripeClient(KEY, base_addresses={"api": URL})
    holder = client.v1.issuing.cardholders.create(
        params={"name": "Membre Client", "billing": {"address": ADDRESS}}
    )
    cards = client.v1.issuing.cards.list(params={"cardholder": holder.id})
    assert cards.data == []

    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe.issuing.Card.create(
            cardholder=holder.id,
            currency="eur",
            type="virtual",
            spending_controls={"allowed_categories": ["doctors", "spas"]},
        )
    assert refused.value.param == "spending_controls[allowed_categories][1]"
    assert refused.value.http_status == 400

    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe.issuing.Card.retrieve("ic_does_not_exist")
    assert missing.value.http_status == 404

    with pytest.raises(stripe.AuthenticationError):
        stripe.issuing.Card.list(api_key="sk_test_not_a_known_key")
