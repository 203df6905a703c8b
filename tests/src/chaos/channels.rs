//! One payment attempt through one channel, as its client sees it. Each channel pays with its
//! own card, so the single charge an invoice may have names the channel that made it.
//!
//! - The email link's and the SMS link's page (`/l/{token}`): `POST /l/{token}/card` opens the
//!   PSP's card form (303 to `/c/pay/…`, or 303 back to the page when nothing is left to pay),
//!   then the card is posted to the form (303 back to the page once paid, 402 declined).
//! - The PSP's hosted invoice page (`/i/{token}`): the same, through `POST /i/{token}`.
//! - The PSP's API (`POST /v1/invoices/{id}/pay` with `payment_method` and an
//!   `Idempotency-Key` kept across retries): what a client with a saved card does, and the
//!   shape the app's own `POST /v1/me/invoices/{id}/payments` will have.
//!
//! - The app (`POST /v1/me/invoices/{id}/payments` from the core's outbox, the member's saved
//!   card): the phone syncs (which sends what its outbox holds), then pays if the invoice is
//!   still open on it. A lost answer leaves the payment queued on the phone with its key; the
//!   next attempt of the app sends it again, and another channel's attempt may settle the
//!   invoice first, after which the queued payment must come back `already_paid`, never a
//!   second charge.
//!
//! Faults are armed on the request that commits (the card form's POST, `/pay`, or the app's
//! payment), for that exact path, so no other request meets them.

use std::time::Duration;

use serde_json::{json, Value};

use super::world::{World, DELAY};
use crate::PSP_KEY;

/// A way to pay an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Channel {
    /// The email's signed link, its page and the PSP's card form.
    EmailLink,
    /// The SMS's signed link, its page and the PSP's card form.
    SmsLink,
    /// The PSP's hosted invoice page and card form.
    HostedInvoice,
    /// The PSP's `/pay` with a saved card and an idempotency key.
    PspApi,
    /// The member's phone: the core's outbox and the platform's payment route.
    App,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 5] = [
        Channel::EmailLink,
        Channel::SmsLink,
        Channel::HostedInvoice,
        Channel::PspApi,
        Channel::App,
    ];

    /// For the report.
    pub fn name(self) -> &'static str {
        match self {
            Channel::EmailLink => "email_link",
            Channel::SmsLink => "sms_link",
            Channel::HostedInvoice => "hosted_invoice",
            Channel::PspApi => "psp_api",
            Channel::App => "app",
        }
    }

    /// The card (or the PSP's test token) this channel pays with.
    fn card(self) -> &'static str {
        match self {
            Channel::EmailLink => "4000056655665556",
            Channel::SmsLink => "5555555555554444",
            Channel::HostedInvoice => "2223003122003222",
            Channel::PspApi => "pm_card_visa",
            Channel::App => APP_CARD,
        }
    }

    /// The last four digits of [`Channel::card`]: how a charge names its channel.
    pub fn last4(self) -> &'static str {
        match self {
            Channel::EmailLink => "5556",
            Channel::SmsLink => "4444",
            Channel::HostedInvoice => "3222",
            Channel::PspApi => "4242",
            Channel::App => "8210",
        }
    }

    /// The channel whose card ends in `last4`.
    pub fn of_last4(last4: &str) -> Option<Channel> {
        Self::ALL.into_iter().find(|c| c.last4() == last4)
    }
}

/// The card each member's phone saves (a Mastercard debit test number), paying for the app.
pub const APP_CARD: &str = "5200828282828210";

/// A card the network declines (`card_declined`), as a number and as the test token.
const DECLINED_NUMBER: &str = "4000000000000002";
const DECLINED_TOKEN: &str = "pm_card_chargeDeclined";

/// What is done to the committing request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injected {
    /// Nothing.
    Nothing,
    /// The server answers 503 without running it.
    Fail,
    /// The server runs it, commits, and breaks the connection instead of answering.
    DropAfterCommit,
    /// The server waits [`DELAY`] before running it; the client gives up first.
    Delay,
    /// The client is killed after this long, whatever the request reached.
    Kill(Duration),
    /// The card is one the network declines.
    Decline,
}

/// Why no answer came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lost {
    /// 503.
    ServerError,
    /// The connection broke mid-answer.
    Dropped,
    /// The client's timeout.
    TimedOut,
    /// The client was killed.
    Killed,
}

/// What the client saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The answer says the invoice is paid (by this attempt or one that raced it).
    Paid,
    /// Nothing left to pay before this attempt could pay.
    AlreadyPaid,
    /// The card was declined; nothing taken.
    Declined,
    /// No answer.
    Lost(Lost),
}

/// An HTTP answer read whole: (status, `Location`, body).
type Answer = (u16, Option<String>, String);

async fn read(r: Result<reqwest::Response, reqwest::Error>) -> Result<Answer, reqwest::Error> {
    let r = r?;
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // A dropped answer may break after its head: only a whole body is an answer.
    let body = r.text().await?;
    Ok((status, location, body))
}

/// The path of a URL on the mock (`/c/pay/…` of `http://127.0.0.1:…/c/pay/…`).
fn path_of(url: &str) -> &str {
    match url.find("://") {
        Some(scheme) => url[scheme + 3..]
            .find('/')
            .map_or("/", |p| &url[scheme + 3 + p..]),
        None => url,
    }
}

async fn arm(world: &World, path: &str, injected: Injected) {
    let (mode, delay_ms) = match injected {
        Injected::Fail => ("fail", 0),
        Injected::DropAfterCommit => ("drop_after_commit", 0),
        Injected::Delay => ("delay", DELAY.as_millis() as u64),
        _ => return,
    };
    let (status, body) = world
        .mock
        .post(
            "/v1/test_helpers/faults",
            json!({"method": "POST", "path_prefix": path, "mode": mode, "count": 1,
                   "delay_ms": delay_ms}),
        )
        .await;
    assert_eq!(status, 200, "arming {mode} on {path}: {body}");
}

/// Sends the committing request `request` under `injected`; `None` when no answer came.
async fn commit(
    world: &World,
    request: impl FnOnce(&reqwest::Client) -> reqwest::RequestBuilder,
    path: &str,
    injected: Injected,
) -> Result<Answer, Lost> {
    arm(world, path, injected).await;
    let client = if injected == Injected::Delay {
        &world.impatient
    } else {
        &world.browser
    };
    // Built as one future, so a kill can land before, during or after the commit.
    let sent = async { read(request(client).send().await).await };
    let answer = match injected {
        Injected::Kill(after) => match tokio::time::timeout(after, sent).await {
            Ok(answer) => answer,
            Err(_) => return Err(Lost::Killed),
        },
        _ => sent.await,
    };
    match (answer, injected) {
        (Ok((503, _, _)), Injected::Fail) => Err(Lost::ServerError),
        (Ok(a), _) => Ok(a),
        (Err(e), Injected::DropAfterCommit) if !e.is_timeout() => Err(Lost::Dropped),
        (Err(e), Injected::Delay) if e.is_timeout() => Err(Lost::TimedOut),
        (Err(e), _) => panic!("{path}: no answer without a fault: {e}"),
    }
}

/// One attempt at paying invoice `i` through `channel`; `api_key` is the idempotency key of
/// this payment at the PSP's API (a retry of the same payment passes the same key).
pub async fn pay(
    world: &World,
    i: usize,
    channel: Channel,
    injected: Injected,
    api_key: &str,
) -> Seen {
    let inv = &world.invoices[i];
    let base = &world.mock.url;
    if channel == Channel::App {
        return pay_from_the_app(world, i, injected).await;
    }
    if channel == Channel::PspApi {
        let method = if injected == Injected::Decline {
            DECLINED_TOKEN
        } else {
            channel.card()
        };
        let path = format!("/v1/invoices/{}/pay", inv.id);
        let answer = commit(
            world,
            |c| {
                c.post(format!("{base}{path}"))
                    .bearer_auth(PSP_KEY)
                    .header("idempotency-key", api_key)
                    .form(&[("payment_method", method)])
            },
            &path,
            injected,
        )
        .await;
        let (status, _, body) = match answer {
            Ok(a) => a,
            Err(lost) => return Seen::Lost(lost),
        };
        let doc: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        return match status {
            200 if doc["status"] == "paid" => Seen::Paid,
            402 if injected == Injected::Decline => Seen::Declined,
            400 | 402 => {
                // Refused: the client reads the invoice to tell the member why.
                let now = world.psp_invoice(&inv.id).await;
                assert_eq!(
                    now["status"], "paid",
                    "{path} refused an unpaid invoice: {status} {doc}"
                );
                Seen::AlreadyPaid
            }
            _ => panic!("{path}: {status} {doc}"),
        };
    }
    let page = match channel {
        Channel::EmailLink => inv.email.clone(),
        Channel::SmsLink => inv.sms.clone(),
        _ => inv.hosted.clone(),
    }
    .expect("the invoice was reached");
    let open = match channel {
        Channel::HostedInvoice => page.clone(),
        _ => format!("{page}/card"),
    };
    let opened = read(
        world
            .browser
            .post(format!("{base}{open}"))
            .header("accept-language", "fr-FR")
            .send()
            .await,
    )
    .await
    .unwrap_or_else(|e| panic!("POST {open}: {e}"));
    let form = match opened {
        (303, Some(to), _) if to.contains("/c/pay/") => path_of(&to).to_owned(),
        (303, Some(to), _) if to.ends_with(&page) => return Seen::AlreadyPaid,
        (status, to, body) => panic!("POST {open}: {status} {to:?} {body}"),
    };
    let number = if injected == Injected::Decline {
        DECLINED_NUMBER
    } else {
        channel.card()
    };
    let answer = commit(
        world,
        |c| {
            c.post(format!("{base}{form}"))
                .header("accept-language", "fr-FR")
                .form(&[
                    ("card[number]", number),
                    ("card[exp_month]", "12"),
                    ("card[exp_year]", "2034"),
                    ("card[cvc]", "123"),
                ])
        },
        &form,
        injected,
    )
    .await;
    match answer {
        Err(lost) => Seen::Lost(lost),
        Ok((303, Some(to), _)) if to.ends_with(&page) => Seen::Paid,
        Ok((402, _, _)) if injected == Injected::Decline => Seen::Declined,
        Ok((status, to, body)) => panic!("POST {form}: {status} {to:?} {body}"),
    }
}

/// One attempt from the member's phone. The phone's own HTTP timeout is far above [`DELAY`],
/// so a delay only slows it; a declined card and a killed client are played by the other
/// channels (the phone's kills are the failpoint tests' and the terminal's, and the run kills
/// phones mid-sync).
async fn pay_from_the_app(world: &World, i: usize, injected: Injected) -> Seen {
    use tierspay_core::{InvoiceStatus, PaymentProgress};

    let inv = &world.invoices[i];
    let arrears = world.phones[inv.member].app.arrears();
    let path = format!("/v1/me/invoices/{}/payments", inv.id);
    let injected = match injected {
        Injected::Fail | Injected::DropAfterCommit | Injected::Delay => injected,
        _ => Injected::Nothing,
    };
    // What the outbox holds is sent first, so the fault meets the payment this attempt makes.
    arrears.sync().await.expect("the phone syncs");
    let on_phone = arrears.invoice(inv.id.clone()).expect("synced");
    if on_phone.status == InvoiceStatus::Paid {
        let mine = on_phone.payment.as_ref().map(|p| p.progress) == Some(PaymentProgress::Paid);
        return if mine { Seen::Paid } else { Seen::AlreadyPaid };
    }
    arm(world, &path, injected).await;
    let outcome = arrears.pay(inv.id.clone()).await;
    let mut progress = match outcome {
        Ok(o) => o.entry.progress,
        Err(e) => panic!("{path}: the core refused an open invoice: {e}"),
    };
    // Without a fault, a payment still queued met another channel's payment under way (409
    // `payment_in_progress`): the app sends it again shortly, as it would on its own.
    for _ in 0..50 {
        let queued = matches!(progress, PaymentProgress::Queued | PaymentProgress::Sending);
        if !(queued && injected == Injected::Nothing) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        arrears.send_outbox().await.expect("the outbox is sent");
        progress = arrears
            .invoice(inv.id.clone())
            .expect("on the phone")
            .payment
            .map_or(PaymentProgress::Queued, |p| p.progress);
    }
    match (progress, injected) {
        (PaymentProgress::Paid, _) => Seen::Paid,
        (PaymentProgress::AlreadyPaid, _) => Seen::AlreadyPaid,
        (PaymentProgress::Queued | PaymentProgress::Sending, Injected::Fail) => {
            Seen::Lost(Lost::ServerError)
        }
        (PaymentProgress::Queued | PaymentProgress::Sending, Injected::DropAfterCommit) => {
            Seen::Lost(Lost::Dropped)
        }
        (other, _) => panic!("{path}: {other:?} under {injected:?}"),
    }
}
