//! `Accept-Language` (RFC 9110 §12.5.4) for the server-rendered pages: which of the languages
//! a page is written in the reader prefers. The language with the highest q-value wins, ties
//! going to the one listed first; a range with q=0 or a malformed q-value is skipped, never the
//! whole header. Bounded: at most [`MAX_HEADER_BYTES`] and [`MAX_RANGES`] ranges are read, and
//! q-values are kept as thousandths (no floats).

/// Longest header read; the rest is ignored.
pub const MAX_HEADER_BYTES: usize = 512;
/// Most language ranges read.
pub const MAX_RANGES: usize = 32;

/// A q-value in thousandths: `q=0.8` is 800, no `q` is 1000; `None` if malformed.
fn quality(params: &str) -> Option<u16> {
    let mut q = 1000;
    for p in params.split(';') {
        let p = p.trim();
        let Some(value) = p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")) else {
            continue;
        };
        let (int, frac) = value.split_once('.').unwrap_or((value, ""));
        if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let thousandths = frac
            .bytes()
            .chain(std::iter::repeat(b'0'))
            .take(3)
            .fold(0u16, |n, b| n * 10 + u16::from(b - b'0'));
        q = match int {
            "0" => thousandths,
            "1" if thousandths == 0 => 1000,
            _ => return None,
        };
    }
    Some(q)
}

/// The index in `supported` (primary language subtags such as `fr`, `en`) of the language
/// the header prefers, or `None` when it names none of them (the caller picks its default).
pub fn preferred(header: Option<&str>, supported: &[&str]) -> Option<usize> {
    let header = header?;
    let mut cut = header.len().min(MAX_HEADER_BYTES);
    while !header.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut best: Option<(u16, usize)> = None;
    for range in header[..cut].split(',').take(MAX_RANGES) {
        let (tag, params) = range.split_once(';').unwrap_or((range, ""));
        let primary = tag.trim().split('-').next().unwrap_or_default();
        let Some(index) = supported
            .iter()
            .position(|s| s.eq_ignore_ascii_case(primary))
        else {
            continue;
        };
        let Some(q) = quality(params) else { continue };
        if q > 0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, index));
        }
    }
    best.map(|(_, index)| index)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LANGS: &[&str] = &["fr", "en"];

    fn pick(header: &str) -> Option<&'static str> {
        preferred(Some(header), LANGS).map(|i| LANGS[i])
    }

    #[test]
    fn no_header_or_no_known_language_is_none() {
        assert_eq!(preferred(None, LANGS), None);
        assert_eq!(pick(""), None);
        assert_eq!(pick("de-DE, es;q=0.9, *"), None);
    }

    #[test]
    fn the_highest_q_value_wins() {
        assert_eq!(pick("en-GB,en;q=0.9,fr;q=0.8"), Some("en"));
        assert_eq!(pick("fr;q=0.5, en;q=0.6"), Some("en"));
        assert_eq!(pick("en;q=0.5, fr-FR"), Some("fr"));
        assert_eq!(pick("de, en;q=0.1"), Some("en"));
    }

    #[test]
    fn ties_go_to_the_first_listed_and_q0_means_not_acceptable() {
        assert_eq!(pick("en, fr"), Some("en"));
        assert_eq!(pick("fr, en"), Some("fr"));
        assert_eq!(pick("en;q=0, fr;q=0.001"), Some("fr"));
        assert_eq!(pick("fr;q=0"), None);
        assert_eq!(pick("fr;q=0, en;q=0.2"), Some("en"));
    }

    #[test]
    fn malformed_q_values_skip_their_range_only() {
        assert_eq!(pick("fr;q=2, en;q=0.3"), Some("en"));
        assert_eq!(pick("fr;q=0.1234, en;q=0.3"), Some("en"));
        assert_eq!(pick("fr;q=abc, en"), Some("en"));
        assert_eq!(pick("fr;q=-1, en;q=.5"), None);
        assert_eq!(pick("EN;Q=1.000"), Some("en"));
    }

    #[test]
    fn a_huge_header_is_read_only_to_its_bound() {
        let long = format!("{}en", "x;q=0.1,".repeat(200));
        assert!(long.len() > MAX_HEADER_BYTES);
        assert_eq!(pick(&long), None);
        assert_eq!(pick(&"é".repeat(400)), None);
        let many = format!("{}en", "de,".repeat(MAX_RANGES));
        assert_eq!(pick(&many), None);
    }
}
