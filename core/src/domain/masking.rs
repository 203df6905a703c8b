//! Masking of personal data shown to someone not yet authenticated, or written to logs.

/// Masks a phone number, keeping the country prefix and the last two digits:
/// `+33612345678` → `+33 6 •• •• •• 78`. Anything unexpected is masked whole.
pub fn mask_phone(phone: &str) -> String {
    let digits: String = phone.chars().filter(|c| c.is_ascii_digit()).collect();
    if let Some(rest) = digits.strip_prefix("33").filter(|_| phone.starts_with('+')) {
        if rest.len() == 9 {
            return format!("+33 {} •• •• •• {}", &rest[..1], &rest[7..]);
        }
    }
    if digits.len() >= 4 {
        return format!("•••• {}", &digits[digits.len() - 2..]);
    }
    "••••".to_owned()
}

/// Masks an email address, keeping the first letter and the domain:
/// `camille.martin@example.fr` → `c•••@example.fr`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        _ => "•••".to_owned(),
    }
}

/// Keeps only the last `n` characters of an identifier, e.g. a contract number in a message.
pub fn last_chars(value: &str, n: usize) -> String {
    let count = value.chars().count();
    value.chars().skip(count.saturating_sub(n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_mobile_numbers_keep_prefix_and_last_two_digits() {
        assert_eq!(mask_phone("+33612345678"), "+33 6 •• •• •• 78");
        assert_eq!(mask_phone("+44 7700 900123"), "•••• 23");
        assert_eq!(mask_phone("12"), "••••");
        assert_eq!(last_chars("TP1000001", 4), "0001");
        assert_eq!(mask_email("camille.martin@example.fr"), "c•••@example.fr");
        assert_eq!(mask_email("nope"), "•••");
        assert_eq!(last_chars("ab", 4), "ab");
    }
}
