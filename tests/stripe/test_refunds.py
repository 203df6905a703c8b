"""Refunds (`re_…`) driven by the official stripe-python client, unchanged, against a running
tierspay-mock: a partial and a full refund of a captured card payment, read back as stripe.Refund
objects with their negative balance transaction, and Stripe's errors for what cannot be refunded.

The mock's URL comes from TIERSPAY_MOCK_URL (tests/stripe/run.sh starts the mock and sets it).
"""

import os

import pytest
import stripe

URL = os.environ["TIERSPAY_MOCK_URL"]

stripe.api_base = URL
stripe.api_key = "sk_test_tierspay"


def paid(amount, capture_method="automatic"):
    return stripe.PaymentIntent.create(
        amount=amount,
        currency="eur",
        payment_method="pm_card_visa",
        confirm=True,
        capture_method=capture_method,
    )


def test_partial_then_full_refund_of_a_card_payment():
    pi = paid(8000)
    assert pi.status == "succeeded"
    first = stripe.Refund.create(payment_intent=pi.id, amount=3000, reason="requested_by_customer")
    assert isinstance(first, stripe.Refund)
    assert first.id.startswith("re_")
    assert (first.amount, first.status, first.charge) == (3000, "succeeded", pi.latest_charge)
    txn = stripe.BalanceTransaction.retrieve(first.balance_transaction)
    assert (txn.type, txn.amount, txn.net) == ("refund", -3000, -3000)
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        stripe.Refund.create(charge=pi.latest_charge, amount=5001)
    assert too_much.value.code == "amount_too_large"
    assert too_much.value.param == "amount"
    rest = stripe.Refund.create(charge=pi.latest_charge)
    assert rest.amount == 5000
    assert stripe.Charge.retrieve(pi.latest_charge).refunded is True
    with pytest.raises(stripe.InvalidRequestError) as done:
        stripe.Refund.create(payment_intent=pi.id)
    assert done.value.code == "charge_already_refunded"
    listed = stripe.Refund.list(payment_intent=pi.id)
    assert [r.id for r in listed.data] == [rest.id, first.id]
    assert stripe.Refund.retrieve(first.id).reason == "requested_by_customer"


def test_an_uncaptured_payment_is_not_refundable():
    pi = paid(2000, capture_method="manual")
    assert pi.status == "requires_capture"
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe.Refund.create(payment_intent=pi.id)
    assert refused.value.code == "charge_not_refundable"
