//! The console's pages as plain data rendered by askama templates
//! (`server-mock/templates/console/`), which escape every value: nothing is marked safe, so a
//! description, a search text or a staff email full of markup shows as text. Pure: no database.

use askama::Template;
use tierspay_core::wire::invoice_message::{InvoiceMessage, InvoiceMessageAuthorKind};

use super::i18n::{self, Lang, Texts};
use super::search::{Hit, StatusFilter};
use super::timeline::{Event, Kind};
use super::{assets, audit};
use crate::psp::invoice_history::Money;

/// Who is signed in, for the header.
pub struct Who {
    /// Their email.
    pub email: String,
    /// Their role's name.
    pub role: &'static str,
    /// The session's CSRF token (the sign-out form).
    pub csrf: String,
}

/// The external script of a page.
pub struct Script {
    /// Its path, with its hash.
    pub src: String,
    /// `sha256-…`
    pub integrity: String,
}

/// What every page shares.
pub struct Frame<'a> {
    /// `fr` or `en`.
    pub lang: &'static str,
    /// The sentences.
    pub t: &'a Texts,
    /// `<title>`.
    pub title: String,
    /// The header's staff member.
    pub staff: Option<Who>,
    /// The live page's script.
    pub script: Option<Script>,
    /// The stylesheet.
    pub css_href: &'static str,
    /// The other language's link.
    pub lang_switch: String,
    /// The event stream of a live page.
    pub events: Option<String>,
    /// The fragment the script fetches.
    pub live_href: String,
}

impl<'a> Frame<'a> {
    /// A frame in `lang` titled `title`; `back` is where the language switch returns.
    pub fn new(lang: Lang, title: &str, staff: Option<Who>, back: &str) -> Frame<'a> {
        let t = i18n::texts(lang);
        Frame {
            lang: lang.tag(),
            t,
            title: title.to_owned(),
            staff,
            script: None,
            css_href: assets::CSS_PATH,
            lang_switch: format!(
                "/console/lang/{}?back={}",
                t.other_lang_code,
                form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>()
            ),
            events: None,
            live_href: String::new(),
        }
    }
}

/// A label and its value.
pub struct Row {
    /// Label.
    pub label: &'static str,
    /// Value.
    pub value: String,
}

/// A line of the timeline.
pub struct Line {
    /// The event's code.
    pub kind: &'static str,
    /// When.
    pub when: String,
    /// What.
    pub text: String,
}

/// A line of the audit trail.
pub struct AuditLine {
    /// When.
    pub when: String,
    /// Who.
    pub who: String,
    /// What.
    pub what: String,
    /// Outcome.
    pub outcome: String,
}

/// What the invoice view shows.
pub struct InvoiceView {
    /// `in_…`
    pub id: String,
    /// The PSP's number.
    pub number: String,
    /// The status in words.
    pub status: &'static str,
    /// Stripe's status.
    pub status_code: String,
    /// Amounts, dates, the contract and the member (masked).
    pub facts: Vec<Row>,
    /// The history.
    pub events: Vec<Line>,
    /// The console's actions on it.
    pub audit: Vec<AuditLine>,
    /// The message thread, oldest first.
    pub messages: Vec<MessageLine>,
    /// Older messages were left out.
    pub messages_more: bool,
}

/// A message of the thread.
pub struct MessageLine {
    /// `member` or `staff`.
    pub kind: &'static str,
    /// Who, in words.
    pub who: String,
    /// When.
    pub when: String,
    /// What they wrote (escaped by the template, line breaks kept by CSS).
    pub text: String,
}

/// The facts the view is built from.
pub struct InvoiceFacts {
    /// `in_…`
    pub id: String,
    /// The PSP's number.
    pub number: Option<String>,
    /// Stripe's status.
    pub status: String,
    /// Minor units.
    pub amount_due: i64,
    /// Minor units.
    pub amount_paid: i64,
    /// Minor units.
    pub amount_remaining: i64,
    /// Minor units.
    pub amount_overpaid: i64,
    /// Minor units of issued credit notes.
    pub credited: i64,
    /// Unix seconds.
    pub due_date: Option<i64>,
    /// Grouped by four.
    pub rf_reference: Option<String>,
    /// Unix seconds.
    pub created: i64,
    /// The printed contract number.
    pub contract: String,
    /// The member's name as support addresses them.
    pub member: String,
    /// Masked.
    pub phone: String,
    /// Masked.
    pub email: String,
}

/// The status in words.
pub fn status_text(t: &Texts, status: &str) -> &'static str {
    match status {
        "open" => t.status_open,
        "paid" => t.status_paid,
        "void" => t.status_void,
        "uncollectible" => t.status_uncollectible,
        _ => t.status_draft,
    }
}

fn event_text(lang: Lang, t: &Texts, e: &Event) -> String {
    let money = |m: Option<i64>| {
        m.map(|m| format!(" · {}", lang.money(m)))
            .unwrap_or_default()
    };
    match &e.kind {
        Kind::Created(source) => format!("{} ({source})", t.ev_created),
        Kind::Reminder(channel, outcome) => format!("{} · {channel} · {outcome}", t.ev_reminder),
        Kind::LinkSent(channel) => format!("{} · {channel}", t.ev_link_sent),
        Kind::LinkReported(reason) => format!("{} · {reason}", t.ev_link_reported),
        Kind::Money(Money::CardAttempt(Ok(()))) => format!("{}{}", t.ev_card_ok, money(e.amount)),
        Kind::Money(Money::CardAttempt(Err(code))) => {
            format!("{}{} · {code}", t.ev_card_declined, money(e.amount))
        }
        Kind::Money(Money::Payment { source, overpaid }) => {
            let over = if *overpaid > 0 {
                format!(" ({} {})", t.ev_overpaid, lang.money(*overpaid))
            } else {
                String::new()
            };
            format!("{} · {source}{}{over}", t.ev_payment, money(e.amount))
        }
        Kind::Money(Money::Transfer) => format!("{}{}", t.ev_transfer, money(e.amount)),
        Kind::Money(Money::Refund(status)) => {
            format!("{}{} · {status}", t.ev_refund, money(e.amount))
        }
        Kind::Money(Money::CreditNote(number)) => {
            format!("{} {number}{}", t.ev_credit_note, money(e.amount))
        }
        Kind::Money(Money::Uncollectible) => t.ev_uncollectible.to_owned(),
        Kind::Money(Money::Voided) => t.ev_voided.to_owned(),
        Kind::Money(Money::Paid) => t.ev_paid.to_owned(),
    }
}

/// The view of an invoice from its facts, history and audit entries.
pub fn invoice_view(
    lang: Lang,
    f: &InvoiceFacts,
    events: &[Event],
    audit: &[audit::Entry],
    thread: (&[InvoiceMessage], bool),
) -> InvoiceView {
    let t = i18n::texts(lang);
    let mut facts = vec![
        Row {
            label: t.contract,
            value: f.contract.clone(),
        },
        Row {
            label: t.member,
            value: f.member.clone(),
        },
        Row {
            label: t.phone,
            value: f.phone.clone(),
        },
        Row {
            label: t.email_label,
            value: f.email.clone(),
        },
        Row {
            label: t.amount_due,
            value: lang.money(f.amount_due),
        },
        Row {
            label: t.amount_paid,
            value: lang.money(f.amount_paid),
        },
        Row {
            label: t.amount_remaining,
            value: lang.money(f.amount_remaining),
        },
    ];
    if f.credited > 0 {
        facts.push(Row {
            label: t.credited,
            value: lang.money(f.credited),
        });
    }
    if f.amount_overpaid > 0 {
        facts.push(Row {
            label: t.amount_overpaid,
            value: lang.money(f.amount_overpaid),
        });
    }
    if let Some(rf) = &f.rf_reference {
        facts.push(Row {
            label: t.reference,
            value: rf.clone(),
        });
    }
    if let Some(due) = f.due_date {
        facts.push(Row {
            label: t.due_date,
            value: lang.date(tierspay_core::domain::calendar::paris_date(due)),
        });
    }
    facts.push(Row {
        label: t.created,
        value: i18n::when(lang, f.created),
    });
    InvoiceView {
        id: f.id.clone(),
        number: f.number.clone().unwrap_or_else(|| f.id.clone()),
        status: status_text(t, &f.status),
        status_code: f.status.clone(),
        facts,
        events: events
            .iter()
            .map(|e| Line {
                kind: e.kind.code(),
                when: i18n::when(lang, e.at),
                text: event_text(lang, t, e),
            })
            .collect(),
        audit: audit
            .iter()
            .map(|a| AuditLine {
                when: i18n::when(lang, a.at),
                // A broker or the back office has no email: its id names it.
                who: a
                    .staff_email
                    .clone()
                    .or_else(|| a.staff_id.clone())
                    .unwrap_or_default(),
                what: if a.detail.is_empty() {
                    a.action.clone()
                } else {
                    format!("{} · {}", a.action, a.detail)
                },
                outcome: a.outcome.clone(),
            })
            .collect(),
        messages: thread
            .0
            .iter()
            .map(|m| MessageLine {
                kind: match m.author.kind {
                    InvoiceMessageAuthorKind::Member => "member",
                    InvoiceMessageAuthorKind::Staff => "staff",
                },
                who: match m.author.kind {
                    InvoiceMessageAuthorKind::Member => t.you_member.to_owned(),
                    InvoiceMessageAuthorKind::Staff => m.author.name.clone().unwrap_or_default(),
                },
                when: i18n::when(lang, m.created),
                text: m.text.clone(),
            })
            .collect(),
        messages_more: thread.1,
    }
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginTemplate<'a> {
    f: Frame<'a>,
    error: Option<&'a str>,
    email: &'a str,
}

/// The sign-in page.
pub fn login_page(f: Frame<'_>, error: Option<&str>, email: &str) -> askama::Result<String> {
    LoginTemplate { f, error, email }.render()
}

/// A status option of the search form.
pub struct StatusOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

/// A result line, in words.
pub struct HitLine {
    id: String,
    number: String,
    contract: String,
    status: &'static str,
    due: String,
    remaining: String,
    created: String,
}

#[derive(Template)]
#[template(path = "console/search.html")]
struct SearchTemplate<'a> {
    f: Frame<'a>,
    error: Option<&'a str>,
    q: &'a str,
    statuses: Vec<StatusOption>,
    searched: bool,
    hits: Vec<HitLine>,
}

/// The search page; `hits` is `None` before a search.
pub fn search_page(
    f: Frame<'_>,
    lang: Lang,
    q: &str,
    status: StatusFilter,
    hits: Option<&[Hit]>,
    error: Option<&str>,
) -> askama::Result<String> {
    let t = i18n::texts(lang);
    let statuses = [
        (StatusFilter::Any, t.any_status),
        (StatusFilter::Open, t.status_open),
        (StatusFilter::Paid, t.status_paid),
        (StatusFilter::Uncollectible, t.status_uncollectible),
        (StatusFilter::Void, t.status_void),
    ]
    .into_iter()
    .map(|(s, label)| StatusOption {
        value: s.as_str(),
        label,
        selected: s == status,
    })
    .collect();
    let hits_lines = hits
        .unwrap_or_default()
        .iter()
        .map(|h| HitLine {
            id: h.invoice_id.clone(),
            number: h.number.clone().unwrap_or_else(|| h.invoice_id.clone()),
            contract: h.contract.clone(),
            status: status_text(t, &h.status),
            due: lang.money(h.amount_due),
            remaining: lang.money(h.amount_remaining),
            created: i18n::when(lang, h.created),
        })
        .collect();
    SearchTemplate {
        f,
        error,
        q,
        statuses,
        searched: hits.is_some(),
        hits: hits_lines,
    }
    .render()
}

#[derive(Template)]
#[template(path = "console/invoice.html")]
struct InvoiceTemplate<'a> {
    f: Frame<'a>,
    v: InvoiceView,
    csrf: String,
    finance: bool,
    reply_key: String,
}

/// The invoice page; `reply_key` is the reply form's one-time key.
pub fn invoice_page(
    f: Frame<'_>,
    v: InvoiceView,
    csrf: String,
    finance: bool,
    reply_key: String,
) -> askama::Result<String> {
    InvoiceTemplate {
        f,
        v,
        csrf,
        finance,
        reply_key,
    }
    .render()
}

#[derive(Template)]
#[template(path = "console/live_fragment.html")]
struct LiveTemplate<'a> {
    f: Frame<'a>,
    v: InvoiceView,
}

/// The invoice page's live parts alone (what the script swaps in).
pub fn live_fragment(f: Frame<'_>, v: InvoiceView) -> askama::Result<String> {
    LiveTemplate { f, v }.render()
}

/// A hidden field the confirmation carries forward.
pub struct Field {
    /// Its name.
    pub name: &'static str,
    /// Its value, as typed and checked.
    pub value: String,
}

#[derive(Template)]
#[template(path = "console/confirm.html")]
struct ConfirmTemplate<'a> {
    f: Frame<'a>,
    what: &'a str,
    id: &'a str,
    action: &'a str,
    csrf: &'a str,
    key: &'a str,
    facts: Vec<Row>,
    fields: Vec<Field>,
}

/// What a confirmation shows and carries.
pub struct Confirmation<'a> {
    /// The action's name in words.
    pub what: &'a str,
    /// `in_…`
    pub id: &'a str,
    /// The action's path segment.
    pub action: &'a str,
    /// The session's token.
    pub csrf: &'a str,
    /// The form's one-time key.
    pub key: &'a str,
    /// What will happen.
    pub facts: Vec<Row>,
    /// The fields carried forward.
    pub fields: Vec<Field>,
}

/// The confirmation step of an action.
pub fn confirm_page(f: Frame<'_>, c: Confirmation<'_>) -> askama::Result<String> {
    ConfirmTemplate {
        f,
        what: c.what,
        id: c.id,
        action: c.action,
        csrf: c.csrf,
        key: c.key,
        facts: c.facts,
        fields: c.fields,
    }
    .render()
}

#[derive(Template)]
#[template(path = "console/outcome.html")]
struct OutcomeTemplate<'a> {
    f: Frame<'a>,
    heading: &'a str,
    text: &'a str,
    detail: Option<&'a str>,
    alert: bool,
    invoice: Option<&'a str>,
}

/// A page that says what happened (done, refused, forbidden, not found).
pub fn outcome_page(
    f: Frame<'_>,
    heading: &str,
    text: &str,
    detail: Option<&str>,
    alert: bool,
    invoice: Option<&str>,
) -> askama::Result<String> {
    OutcomeTemplate {
        f,
        heading,
        text,
        detail,
        alert,
        invoice,
    }
    .render()
}
