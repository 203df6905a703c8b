"""PaymentIntents, SetupIntents, Connect transfers and the ledger's balance transactions, driven
by the official stripe-python client, unchanged, against a running tierspay-mock.

The mock's URL comes from TIERSPAY_MOCK_URL (tests/stripe/run.sh starts the mock and sets it).
"""

import os
import urllib.parse
import urllib.request
import uuid

import pytest
import stripe

URL = os.environ["TIERSPAY_MOCK_URL"]
KEY = "sk_test_tierspay"
PUBLISHABLE = "pk_test_tierspay"
PLATFORM = "acct_1TiersPayPlatform"

stripe.api_base = URL
stripe.api_key = KEY
stripe.max_network_retries = 2


def new_card(number="4242424242424242"):
    """A PaymentMethod made as the phone makes it: with the publishable key."""
    return stripe.PaymentMethod.create(
        type="card",
        card={"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        api_key=PUBLISHABLE,
    )


def saved_card(number="4242424242424242"):
    customer = stripe.Customer.create(name="Membre Py", metadata={"ref": uuid.uuid4().hex})
    pm = new_card(number)
    setup = stripe.SetupIntent.create(
        customer=customer.id,
        payment_method=pm.id,
        confirm=True,
        usage="off_session",
        payment_method_types=["card"],
    )
    assert isinstance(setup, stripe.SetupIntent)
    assert setup.status == "succeeded"
    return customer, pm


def test_payment_method_with_the_publishable_key_and_its_refusals():
    pm = new_card()
    assert isinstance(pm, stripe.PaymentMethod)
    assert pm.card.last4 == "4242"
    assert pm.card.brand == "visa"
    with pytest.raises(stripe.CardError) as bad:
        stripe.PaymentMethod.create(
            type="card",
            card={"number": "4242424242424241", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
            api_key=PUBLISHABLE,
        )
    assert bad.value.code == "incorrect_number"
    assert bad.value.param == "card[number]"
    # The publishable key opens nothing else.
    with pytest.raises(stripe.PermissionError):
        stripe.PaymentIntent.list(api_key=PUBLISHABLE)


def test_manual_capture_partial_and_its_charge():
    customer, pm = saved_card()
    stripe.Customer.modify(customer.id, invoice_settings={"default_payment_method": pm.id})
    pi = stripe.PaymentIntent.create(
        amount=10000,
        currency="eur",
        customer=customer.id,
        payment_method=pm.id,
        capture_method="manual",
        confirm=True,
        off_session=True,
        transfer_group="visit_py",
        metadata={"visit": "v1"},
    )
    assert isinstance(pi, stripe.PaymentIntent)
    assert pi.status == "requires_capture"
    assert pi.amount_capturable == 10000
    captured = stripe.PaymentIntent.capture(
        pi.id, amount_to_capture=4000, expand=["latest_charge.balance_transaction"]
    )
    assert captured.status == "succeeded"
    assert captured.amount_received == 4000
    charge = captured.latest_charge
    assert isinstance(charge, stripe.Charge)
    txn = charge.balance_transaction
    assert isinstance(txn, stripe.BalanceTransaction)
    assert txn.type == "charge"
    assert txn.net == txn.amount - txn.fee
    listed = stripe.BalanceTransaction.list(source=charge.id)
    assert [t.id for t in listed.data] == [txn.id]


def test_declines_are_card_errors_carrying_the_intent():
    pm = new_card("4000000000009995")
    with pytest.raises(stripe.CardError) as declined:
        stripe.PaymentIntent.create(amount=2500, currency="eur", payment_method=pm.id, confirm=True)
    assert declined.value.code == "card_declined"
    assert declined.value.error.decline_code == "insufficient_funds"
    pi = stripe.PaymentIntent.retrieve(declined.value.error.payment_intent.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.decline_code == "insufficient_funds"


def test_three_d_secure_setup_then_off_session_payment():
    customer = stripe.Customer.create(name="Membre 3DS")
    pm = new_card("4000002500003155")
    setup = stripe.SetupIntent.create(customer=customer.id, payment_method=pm.id, confirm=True)
    assert setup.status == "requires_action"
    assert setup.next_action.type == "redirect_to_url"
    # The member answers the hosted challenge page: its form posted back, as a browser does.
    page = setup.next_action.redirect_to_url.url
    with urllib.request.urlopen(page) as answer:
        assert b'value="complete"' in answer.read()
    form = urllib.parse.urlencode({"outcome": "complete"}).encode()
    with urllib.request.urlopen(urllib.request.Request(page, data=form, method="POST")) as answer:
        assert b"succeeded" in answer.read()
    assert stripe.SetupIntent.retrieve(setup.id).status == "succeeded"
    pi = stripe.PaymentIntent.create(
        amount=3000,
        currency="eur",
        customer=customer.id,
        payment_method=pm.id,
        confirm=True,
        off_session=True,
    )
    assert pi.status == "succeeded"
    canceled = stripe.PaymentIntent.create(amount=3000, currency="eur", customer=customer.id)
    canceled = stripe.PaymentIntent.cancel(canceled.id, cancellation_reason="abandoned")
    assert canceled.status == "canceled"


def test_connect_transfers_both_ways_and_balances():
    account = stripe.Account.create(type="custom", country="FR", business_profile={"name": "Mutuelle Py"})
    assert isinstance(account, stripe.Account)
    stripe.Topup.create(amount=50000, currency="eur", description="float")
    stripe.Topup.create(amount=20000, currency="eur", stripe_account=account.id)
    before = stripe.Balance.retrieve(stripe_account=account.id).available[0].amount
    out = stripe.Transfer.create(amount=7000, currency="eur", destination=account.id, transfer_group="visit_t")
    assert isinstance(out, stripe.Transfer)
    back = stripe.Transfer.create(
        amount=2500, currency="eur", destination=PLATFORM, transfer_group="visit_t", stripe_account=account.id
    )
    assert back.destination == PLATFORM
    after = stripe.Balance.retrieve(stripe_account=account.id).available[0].amount
    assert after == before + 7000 - 2500
    transfers = stripe.BalanceTransaction.list(type="transfer", stripe_account=account.id)
    assert sorted(t.amount for t in transfers.data) == [-2500, 7000]
    with pytest.raises(stripe.InvalidRequestError) as overdraft:
        stripe.Transfer.create(amount=99999999, currency="eur", destination=PLATFORM, stripe_account=account.id)
    assert overdraft.value.code == "balance_insufficient"
    group = stripe.Transfer.list(transfer_group="visit_t")
    assert [t.id for t in group.data] == [out.id]
