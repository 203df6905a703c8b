"""Invoices, invoice items and credit notes, driven by the official stripe-python client,
unchanged, against a running tierspay-mock: the objects come back as stripe.Invoice,
stripe.InvoiceItem, stripe.CreditNote with Stripe's fields, every verb of the lifecycle works
through the library's own methods, and refusals raise the library's own errors.

The mock's URL comes from TIERSPAY_MOCK_URL (tests/stripe/run.sh starts the mock and sets it).
"""

import os
import uuid

import pytest
import stripe

URL = os.environ["TIERSPAY_MOCK_URL"]

stripe.api_base = URL
stripe.api_key = "sk_test_tierspay"
stripe.max_network_retries = 2


def rf_valid(reference):
    """ISO 11649: move RF and the check digits to the end, letters as 10..35, mod 97 = 1."""
    text = reference.replace(" ", "").upper()
    moved = text[4:] + text[:4]
    digits = "".join(str(int(c, 36)) for c in moved)
    return text.startswith("RF") and int(digits) % 97 == 1


def draft(amount=4250):
    customer = stripe.Customer.create(name="Membre Py", metadata={"ref": uuid.uuid4().hex})
    item = stripe.InvoiceItem.create(
        customer=customer.id, amount=amount, currency="eur", description="Cotisation"
    )
    assert isinstance(item, stripe.InvoiceItem)
    assert item.invoice is None
    invoice = stripe.Invoice.create(
        customer=customer.id,
        collection_method="send_invoice",
        days_until_due=30,
        pending_invoice_items_behavior="include",
        metadata={"member_ref": "mbr_py"},
    )
    return customer, invoice


def test_an_invoice_goes_from_draft_to_paid_through_the_library():
    customer, invoice = draft()
    assert isinstance(invoice, stripe.Invoice)
    assert invoice.object == "invoice"
    assert invoice.status == "draft"
    assert invoice.total == 4250 and invoice.amount_due == 4250
    assert invoice.lines.data[0].amount == 4250
    assert invoice.hosted_invoice_url is None and invoice.number is None

    invoice = stripe.Invoice.modify(invoice.id, description="Arriérés de novembre")
    assert invoice.description == "Arriérés de novembre"

    invoice = stripe.Invoice.finalize_invoice(invoice.id)
    assert invoice.status == "open"
    assert invoice.number.endswith("-0001") or "-" in invoice.number
    assert invoice.status_transitions.finalized_at is not None
    assert invoice.hosted_invoice_url.startswith(URL)
    assert rf_valid(invoice.rf_reference)
    assert invoice.custom_fields[0].value.replace(" ", "") == invoice.rf_reference

    with pytest.raises(stripe.InvalidRequestError) as immutable:
        stripe.Invoice.modify(invoice.id, description="autre")
    assert immutable.value.code == "invoice_not_editable"
    assert immutable.value.param == "description"

    invoice = stripe.Invoice.send_invoice(invoice.id)
    assert invoice.status == "open"
    # A part paid out of band (the mock's `amount`), then the rest.
    invoice = stripe.Invoice.pay(invoice.id, paid_out_of_band=True, amount=1000)
    assert (invoice.status, invoice.amount_paid, invoice.amount_remaining) == ("open", 1000, 3250)
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        stripe.Invoice.pay(invoice.id, paid_out_of_band=True, amount=3251)
    assert too_much.value.code == "amount_too_large"
    invoice = stripe.Invoice.pay(invoice.id, paid_out_of_band=True)
    assert invoice.status == "paid" and invoice.paid_out_of_band
    assert invoice.status_transitions.paid_at is not None
    with pytest.raises(stripe.InvalidRequestError) as paid:
        stripe.Invoice.pay(invoice.id, paid_out_of_band=True)
    assert paid.value.code == "invoice_already_paid"

    listed = stripe.Invoice.list(customer=customer.id, status="paid")
    assert [i.id for i in listed.data] == [invoice.id]
    retrieved = stripe.Invoice.retrieve(invoice.id, expand=["customer"])
    assert isinstance(retrieved.customer, stripe.Customer)
    kinds = [
        e.type
        for e in stripe.Event.list(type="invoice.*", limit=100).auto_paging_iter()
        if e.data.object.id == invoice.id
    ]
    for kind in ["invoice.created", "invoice.finalized", "invoice.sent", "invoice.paid"]:
        assert kind in kinds


def test_a_card_pays_an_invoice_and_a_decline_raises_card_error():
    _, invoice = draft(3000)
    invoice = stripe.Invoice.finalize_invoice(invoice.id)
    with pytest.raises(stripe.CardError) as declined:
        stripe.Invoice.pay(invoice.id, payment_method="pm_card_chargeDeclined")
    assert declined.value.code == "card_declined"
    assert stripe.Invoice.retrieve(invoice.id).status == "open"
    paid = stripe.Invoice.pay(invoice.id, payment_method="pm_card_visa")
    assert paid.status == "paid" and paid.amount_paid == 3000
    intent = stripe.PaymentIntent.retrieve(paid.payment_intent)
    assert intent.status == "succeeded"
    assert intent.invoice == paid.id


def test_void_uncollectible_and_delete():
    _, a = draft(1500)
    a = stripe.Invoice.finalize_invoice(a.id)
    a = stripe.Invoice.void_invoice(a.id)
    assert a.status == "void" and a.status_transitions.voided_at is not None
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Invoice.pay(a.id, paid_out_of_band=True)

    _, b = draft(1500)
    b = stripe.Invoice.finalize_invoice(b.id)
    b = stripe.Invoice.mark_uncollectible(b.id)
    assert b.status == "uncollectible"
    assert stripe.Invoice.pay(b.id, paid_out_of_band=True).status == "paid"

    _, c = draft(700)
    deleted = stripe.Invoice.delete(c.id)
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError) as gone:
        stripe.Invoice.retrieve(c.id)
    assert gone.value.http_status == 404


def test_credit_notes_before_and_after_payment():
    _, invoice = draft(3000)
    invoice = stripe.Invoice.finalize_invoice(invoice.id)
    note = stripe.CreditNote.create(invoice=invoice.id, amount=1000, reason="order_change", memo="Geste")
    assert isinstance(note, stripe.CreditNote)
    assert (note.status, note.type, note.pre_payment_amount) == ("issued", "pre_payment", 1000)
    assert stripe.Invoice.retrieve(invoice.id).amount_due == 2000
    voided = stripe.CreditNote.void_credit_note(note.id)
    assert voided.status == "void" and voided.voided_at is not None
    assert stripe.Invoice.retrieve(invoice.id).amount_due == 3000

    line = invoice.lines.data[0].id
    by_line = stripe.CreditNote.create(
        invoice=invoice.id,
        lines=[{"type": "invoice_line_item", "invoice_line_item": line, "amount": 500}],
    )
    assert by_line.lines.data[0].invoice_line_item == line
    stripe.Invoice.pay(invoice.id, paid_out_of_band=True)
    with pytest.raises(stripe.InvalidRequestError) as uncovered:
        stripe.CreditNote.create(invoice=invoice.id, amount=500)
    assert uncovered.value.param == "out_of_band_amount"
    after = stripe.CreditNote.create(invoice=invoice.id, amount=500, out_of_band_amount=500)
    assert after.type == "post_payment"
    listed = stripe.CreditNote.list(invoice=invoice.id)
    assert len(listed.data) == 3
    with pytest.raises(stripe.InvalidRequestError) as bad_reason:
        stripe.CreditNote.create(invoice=invoice.id, amount=1, reason="whim")
    assert bad_reason.value.param == "reason"


def test_a_retried_create_with_the_same_key_makes_one_invoice():
    customer = stripe.Customer.create(name="Membre Py")
    key = uuid.uuid4().hex
    first = stripe.Invoice.create(customer=customer.id, days_until_due=10, idempotency_key=key)
    again = stripe.Invoice.create(customer=customer.id, days_until_due=10, idempotency_key=key)
    assert first.id == again.id
    assert len(stripe.Invoice.list(customer=customer.id).data) == 1


def test_a_credit_note_after_a_card_payment_is_a_refund():
    _, invoice = draft(5000)
    invoice = stripe.Invoice.finalize_invoice(invoice.id)
    paid = stripe.Invoice.pay(invoice.id, payment_method="pm_card_visa")
    note = stripe.CreditNote.create(
        invoice=paid.id, amount=1200, refund_amount=1200, reason="product_unsatisfactory"
    )
    assert note.type == "post_payment" and note.post_payment_amount == 1200
    refund = stripe.Refund.retrieve(note.refund)
    assert isinstance(refund, stripe.Refund)
    assert refund.amount == 1200 and refund.payment_intent == paid.payment_intent
    with pytest.raises(stripe.InvalidRequestError) as void:
        stripe.CreditNote.void_credit_note(note.id)
    assert void.value.code == "credit_note_unexpected_state"
