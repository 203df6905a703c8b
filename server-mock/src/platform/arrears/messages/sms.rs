//! The reminder SMS: one 160-septet GSM-7 part with the short link (docs/arrears.md). Names
//! come from people and insurers, so they are first made GSM-7 (common accents folded, anything
//! else dropped, no control characters) and then shortened, member first name before insurer,
//! until the whole text fits one part. The fixed facts (contract tail, amount, due date,
//! reference, link) are never cut.

use tierspay_core::domain::gsm7;

use super::{euros, french_date, Reminder};

/// Longest insurer name shown before any shortening.
const INSURER_MAX: usize = 24;
/// Longest first name shown before any shortening.
const FIRST_NAME_MAX: usize = 16;

/// Folds a name into the GSM-7 default alphabet: letters with accents GSM-7 lacks become their
/// base letter, other characters outside it, the extension table and controls are dropped, and
/// runs of spaces become one.
pub fn gsm7_name(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = fold(c);
        let keep = match c {
            Some(' ') => !out.ends_with(' ') && !out.is_empty(),
            // One septet only: the extension table (€, [, ], …) has no place in a name.
            Some(c) => !c.is_control() && gsm7::septets_of(c) == Some(1),
            None => false,
        };
        if keep {
            out.extend(c);
        }
    }
    out.trim_end().to_owned()
}

fn fold(c: char) -> Option<char> {
    if gsm7::septets_of(c).is_some() {
        return Some(if c.is_whitespace() { ' ' } else { c });
    }
    if c.is_whitespace() {
        return Some(' ');
    }
    Some(match c {
        'á' | 'â' | 'ã' | 'å' | 'ā' | 'ą' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'ê' | 'ë' | 'ē' | 'ę' | 'ě' => 'e',
        'í' | 'î' | 'ï' => 'i',
        'ó' | 'ô' | 'õ' | 'ō' | 'œ' => 'o',
        'ú' | 'û' => 'u',
        'ý' | 'ÿ' => 'y',
        'ñ' => 'n',
        'Á' | 'Â' | 'À' | 'Ã' => 'A',
        'Ê' | 'Ë' | 'È' => 'E',
        'Î' | 'Ï' | 'Í' => 'I',
        'Ô' | 'Ó' | 'Œ' => 'O',
        'Û' | 'Ù' | 'Ú' => 'U',
        'ł' => 'l',
        'Ł' => 'L',
        'š' => 's',
        'Š' => 'S',
        'ž' | 'ż' | 'ź' => 'z',
        'Ž' | 'Ż' | 'Ź' => 'Z',
        '’' | '‘' => '\'',
        '–' | '—' => '-',
        _ => return None,
    })
}

fn cut(text: &str, chars: usize) -> String {
    text.chars()
        .take(chars)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

fn compose(insurer: &str, first: &str, initial: &str, r: &Reminder, link: &str) -> String {
    let who = match (first.is_empty(), initial.is_empty()) {
        (false, false) => format!("{first} {initial}."),
        (false, true) => first.to_owned(),
        (true, false) => format!("{initial}."),
        (true, true) => String::new(),
    };
    let lead = match (insurer.is_empty(), who.is_empty()) {
        (false, false) => format!("{insurer}: {who}, "),
        (false, true) => format!("{insurer}: "),
        (true, false) => format!("{who}, "),
        (true, true) => String::new(),
    };
    let what = if r.formal_notice {
        "mise en demeure"
    } else {
        "contrat"
    };
    format!(
        "{lead}{what} {}, {} dus au {}, réf. {}. Payer: {link}",
        gsm7_name(&r.contract_tail()),
        euros(r.amount_minor),
        french_date(r.due_date),
        gsm7_name(&r.reference),
    )
}

/// The SMS text for `r` with the short link `link`, at most one GSM-7 part. `None` only if
/// even the fixed facts do not fit (a reference or link far longer than any this server makes).
pub fn text(r: &Reminder, link: &str) -> Option<String> {
    let insurer = cut(&gsm7_name(&r.insurer.name), INSURER_MAX);
    let first = cut(&gsm7_name(&r.first_name), FIRST_NAME_MAX);
    let initial = cut(&gsm7_name(&r.last_name), 1);
    let fits = |s: &str| gsm7::fits_one_sms(s);
    let full = compose(&insurer, &first, &initial, r, link);
    if fits(&full) {
        return Some(full);
    }
    // Shorten the first name, then the insurer's name, a character at a time.
    for n in (1..first.chars().count()).rev() {
        let s = compose(&insurer, &cut(&first, n), &initial, r, link);
        if fits(&s) {
            return Some(s);
        }
    }
    let first = cut(&first, 1);
    for n in (3..insurer.chars().count()).rev() {
        let s = compose(&cut(&insurer, n), &first, &initial, r, link);
        if fits(&s) {
            return Some(s);
        }
    }
    let s = compose(&cut(&insurer, 3), "", &initial, r, link);
    fits(&s).then_some(s)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::Date;

    use super::super::{Insurer, Reminder};
    use super::*;
    use crate::platform::arrears::short_links;

    fn reminder(insurer: &str, first: &str, last: &str, amount_minor: i64) -> Reminder {
        Reminder {
            insurer: Insurer {
                name: insurer.into(),
                legal_entity: "x".into(),
                registration: "x".into(),
                contact: "x".into(),
                colour: [0, 0, 0],
            },
            first_name: first.into(),
            last_name: last.into(),
            contract_number: "TP1001234".into(),
            invoice_number: "HZN-1".into(),
            amount_minor,
            due_date: Date::from_calendar_date(2026, time::Month::December, 31).unwrap(),
            reference: "RF04 INV2 0240 0012 3".into(),
            formal_notice: false,
        }
    }

    #[test]
    fn the_usual_reminder_names_everything_in_one_part() {
        let link = short_links::url("abcDEF1234");
        let t = text(
            &reminder("Mutuelle Horizon", "Jean", "Dupont", 4_250),
            &link,
        )
        .unwrap();
        assert_eq!(
            t,
            "Mutuelle Horizon: Jean D., contrat ...1234, 42,50 € dus au 31/12/2026, \
             réf. RF04 INV2 0240 0012 3. Payer: https://app.tierspay.fr/s/abcDEF1234"
        );
        assert!(gsm7::septets(&t).unwrap() <= gsm7::SINGLE_SMS_SEPTETS);
    }

    #[test]
    fn names_outside_gsm7_are_folded_or_dropped() {
        assert_eq!(gsm7_name("François-Xavier"), "Francois-Xavier");
        assert_eq!(gsm7_name("Łukasz  \u{202E}Żak\n"), "Lukasz Zak");
        assert_eq!(gsm7_name("Zoë [x] 🙂"), "Zoe x");
        assert_eq!(gsm7_name("李"), "");
    }

    #[test]
    fn the_formal_notice_says_so() {
        let mut r = reminder("Mutuelle Horizon", "Jean", "Dupont", 4_250);
        r.formal_notice = true;
        let t = text(&r, &short_links::url("abcDEF1234")).unwrap();
        assert!(t.contains("mise en demeure ...1234"), "{t}");
    }

    proptest! {
        #[test]
        fn every_reminder_fits_one_gsm7_part(
            insurer in "\\PC{0,60}",
            first in "\\PC{0,40}",
            last in "\\PC{0,40}",
            amount in 1i64..=i64::from(u32::MAX),
        ) {
            let r = reminder(&insurer, &first, &last, amount);
            let link = short_links::url(&short_links::new_code());
            let t = text(&r, &link).expect("always fits");
            prop_assert!(gsm7::fits_one_sms(&t), "{} septets: {}", gsm7::septets(&t).unwrap_or(999), t);
            prop_assert!(t.ends_with(&link));
            prop_assert!(t.contains(&euros(amount)));
            prop_assert!(t.contains("31/12/2026"));
            prop_assert!(t.contains("RF04 INV2 0240 0012 3"));
        }
    }
}
