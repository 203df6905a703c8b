//! Card numbers: Luhn check digits, generation in a test range, and the last four digits (the
//! only part of a number that may leave the PSP).

use super::{codes, WalletError};

/// The mock issuer's BIN for funding PANs (a Visa test range, never a live one).
pub const TEST_BIN: &str = "400000";
/// The BIN of device PANs (network tokens), distinct from [`TEST_BIN`].
pub const TOKEN_BIN: &str = "489537";
/// Length of generated numbers.
pub const PAN_LENGTH: usize = 16;

/// The Luhn check digit to append to `partial` (digits only), or `None` if it holds a non-digit.
pub fn luhn_check_digit(partial: &str) -> Option<u8> {
    let mut sum = 0u32;
    // Walking from the right, every other digit starting with the rightmost is doubled.
    for (i, c) in partial.chars().rev().enumerate() {
        let mut d = c.to_digit(10)?;
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    Some(((10 - sum % 10) % 10) as u8)
}

/// True if `pan` is 12 to 19 digits with a valid Luhn check digit.
pub fn luhn_valid(pan: &str) -> bool {
    if !(12..=19).contains(&pan.len()) || !pan.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (body, check) = pan.split_at(pan.len() - 1);
    luhn_check_digit(body).is_some_and(|d| check == d.to_string())
}

/// A `length`-digit number starting with `bin`, its middle digits drawn from `entropy` (bytes
/// of 250 and above are skipped, so digits are uniform), Luhn-completed.
pub fn generate(bin: &str, length: usize, entropy: &[u8]) -> Result<String, WalletError> {
    if !bin.bytes().all(|b| b.is_ascii_digit()) || bin.is_empty() || bin.len() + 1 >= length {
        return Err(WalletError::new(
            "bin",
            codes::INVALID,
            "must be digits, shorter than the number",
        ));
    }
    if !(12..=19).contains(&length) {
        return Err(WalletError::new(
            "length",
            codes::INVALID,
            "must be 12 to 19",
        ));
    }
    let mut out = String::with_capacity(length);
    out.push_str(bin);
    for b in entropy.iter().filter(|b| **b < 250) {
        if out.len() == length - 1 {
            break;
        }
        out.push(char::from(b'0' + b % 10));
    }
    if out.len() < length - 1 {
        return Err(WalletError::new(
            "entropy",
            codes::INVALID,
            "not enough random bytes",
        ));
    }
    let check = luhn_check_digit(&out).unwrap_or(0);
    out.push(char::from(b'0' + check));
    Ok(out)
}

/// A random 16-digit number in `bin` (OS randomness).
pub fn random(bin: &str) -> Result<String, WalletError> {
    loop {
        match generate(bin, PAN_LENGTH, &crate::random_bytes::<32>()) {
            Err(e) if e.field == "entropy" => continue,
            other => return other,
        }
    }
}

/// The last four digits (or the whole string when shorter).
pub fn last4(pan: &str) -> String {
    let start = pan.len().saturating_sub(4);
    pan.get(start..).unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_known_numbers_and_rejects_a_changed_digit() {
        for good in [
            "4242424242424242",
            "4000056655665556",
            "5555555555554444",
            "79927398713",
        ] {
            assert_eq!(luhn_valid(good), good.len() >= 12, "{good}");
        }
        assert!(!luhn_valid("4242424242424241"));
        assert!(!luhn_valid("42424242424242a2"));
        assert!(!luhn_valid("4242"));
        assert_eq!(luhn_check_digit("7992739871"), Some(3));
    }

    #[test]
    fn generated_numbers_are_valid_and_in_the_bin() {
        for _ in 0..200 {
            let pan = random(TEST_BIN).unwrap();
            assert_eq!(pan.len(), 16);
            assert!(pan.starts_with(TEST_BIN));
            assert!(luhn_valid(&pan), "{pan}");
        }
        let fixed = generate("400000", 16, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 255, 0]).unwrap();
        assert_eq!(&fixed[..15], "400000123456789");
        assert!(luhn_valid(&fixed));
        assert_eq!(
            generate("400000", 16, &[1, 2]).unwrap_err().field,
            "entropy"
        );
        assert_eq!(generate("40x", 16, &[0; 32]).unwrap_err().field, "bin");
    }

    #[test]
    fn last4_takes_the_tail() {
        assert_eq!(last4("4000001234567899"), "7899");
        assert_eq!(last4("12"), "12");
    }
}
