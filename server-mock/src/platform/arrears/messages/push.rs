//! The reminder push: a title naming the insurer, one line with the amount, due date and
//! contract, and in the data payload the signed link the app's core routes
//! (`route_for_push` reads `link`) with the same line as `summary`.

use super::{euros, french_date, Reminder};

/// Longest title or line, in characters (a lock screen shows less; nothing unbounded goes out).
const MAX_CHARS: usize = 120;

/// A reminder push's visible parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushText {
    /// The title.
    pub title: String,
    /// The one-line summary, also the payload's `summary`.
    pub summary: String,
}

fn bounded(text: String) -> String {
    // Control characters (a line feed in a name) would break the one line.
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() <= MAX_CHARS {
        clean
    } else {
        let mut s: String = clean.chars().take(MAX_CHARS - 1).collect();
        s.push('…');
        s
    }
}

/// The push for `r`.
pub fn text(r: &Reminder) -> PushText {
    let what = if r.formal_notice {
        "mise en demeure"
    } else {
        "paiement en attente"
    };
    PushText {
        title: bounded(format!("{} : {what}", r.insurer.name)),
        summary: bounded(format!(
            "{} dus depuis le {}, contrat {}, réf. {}",
            euros(r.amount_minor),
            french_date(r.due_date),
            r.contract_tail(),
            r.reference
        )),
    }
}

#[cfg(test)]
mod tests {
    use time::Date;

    use super::super::{Insurer, Reminder};
    use super::*;

    #[test]
    fn a_push_is_one_bounded_line_with_the_facts() {
        let mut r = Reminder {
            insurer: Insurer {
                name: "Mutuelle Horizon".into(),
                legal_entity: String::new(),
                registration: String::new(),
                contact: String::new(),
                colour: [0, 0, 0],
            },
            first_name: "Jean".into(),
            last_name: "Dupont".into(),
            contract_number: "TP1001234".into(),
            invoice_number: "HZN-1".into(),
            amount_minor: 3_000,
            due_date: Date::from_calendar_date(2026, time::Month::December, 1).unwrap(),
            reference: "RF04 INV2 0240 0012 3".into(),
            formal_notice: false,
        };
        let p = text(&r);
        assert_eq!(p.title, "Mutuelle Horizon : paiement en attente");
        assert_eq!(
            p.summary,
            "30,00 € dus depuis le 01/12/2026, contrat ...1234, réf. RF04 INV2 0240 0012 3"
        );
        r.insurer.name = format!("A\nB{}", "x".repeat(500));
        let p = text(&r);
        assert!(!p.title.contains('\n'));
        assert_eq!(p.title.chars().count(), MAX_CHARS);
    }
}
