//! The EPC QR code of a SEPA transfer as inline SVG. The payload comes from the core
//! (`domain::epc_qr`); the qrcode crate encodes it at error correction level M, which the EPC
//! guidelines require, and refuses anything over version 13 (the largest they allow, so any
//! phone camera reads it). The SVG is drawn here as one path of horizontal runs, about a
//! third of the bytes of one square per module.

use qrcode::{Color, EcLevel, QrCode, Version};

/// The largest QR version the EPC guidelines allow.
pub const MAX_VERSION: i16 = 13;
/// White modules around the code, as the QR standard asks.
const QUIET_ZONE: usize = 4;

/// Why a payload could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// The encoder refused the data.
    #[error("the QR encoder refused the payload")]
    Encode,
    /// More than [`MAX_VERSION`] at level M.
    #[error("the payload needs QR version {0}, above {MAX_VERSION}")]
    TooLarge(i16),
}

/// A drawn code: its version and its SVG markup (no XML declaration, for inline HTML).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawn {
    /// The QR version the encoder chose.
    pub version: i16,
    /// `<svg …>…</svg>`, our own markup: only numbers and fixed attributes.
    pub svg: String,
}

/// Encodes `payload` at level M and draws it. `label_id` names the element that labels the
/// image for screen readers (`aria-labelledby`); it must be a fixed identifier of ours.
pub fn draw(payload: &str, label_id: &str) -> Result<Drawn, QrError> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|_| QrError::Encode)?;
    let version = match code.version() {
        Version::Normal(v) => v,
        Version::Micro(_) => return Err(QrError::Encode),
    };
    if version > MAX_VERSION {
        return Err(QrError::TooLarge(version));
    }
    let width = code.width();
    let colors = code.to_colors();
    let side = width + 2 * QUIET_ZONE;
    let mut path = String::with_capacity(width * width);
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == Color::Dark {
                let start = x;
                while x < width && row[x] == Color::Dark {
                    x += 1;
                }
                // Relative moves keep the numbers short.
                path.push_str(&format!(
                    "M{} {}h{}v1h-{}z",
                    start + QUIET_ZONE,
                    y + QUIET_ZONE,
                    x - start,
                    x - start
                ));
            } else {
                x += 1;
            }
        }
    }
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-labelledby=\"{label_id}\" \
         viewBox=\"0 0 {side} {side}\" width=\"{px}\" height=\"{px}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>",
        px = side * 4,
    );
    Ok(Drawn { version, svg })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use tierspay_core::domain::epc_qr::{self, CreditTransfer, Remittance};
    use tierspay_core::domain::rf_reference::RfReference;

    fn payload(name: &str, message: Option<&str>) -> String {
        epc_qr::payload(&CreditTransfer {
            bic: Some("BNPAFRPPXXX".into()),
            name: name.into(),
            iban: "FR7630006000011234567890189".into(),
            amount: Decimal::new(99_999_999_999, 2),
            purpose: Some("GDDS".into()),
            remittance: Remittance::Structured(
                RfReference::make("ABCDEFGHIJKLMNOPQRSTU").expect("a valid base"),
            ),
            message: message.map(str::to_owned),
        })
        .expect("a valid transfer")
    }

    #[test]
    fn the_largest_structured_payload_fits_version_13_at_level_m() {
        // Two-byte letters fill the name and message up to the EPC's 331-byte ceiling.
        let p = payload(&"É".repeat(70), Some(&"ü".repeat(44)));
        assert_eq!(p.len(), epc_qr::MAX_PAYLOAD_BYTES);
        let drawn = draw(&p, "qr-label").expect("drawn");
        assert!(drawn.version <= MAX_VERSION, "version {}", drawn.version);
    }

    #[test]
    fn a_usual_payload_is_small_and_the_markup_is_ours() {
        let drawn = draw(&payload("Mutuelle Exemple", None), "qr-label").expect("drawn");
        assert!(drawn.version <= 7, "version {}", drawn.version);
        assert!(drawn.svg.len() < 12_000, "{} bytes", drawn.svg.len());
        assert!(drawn.svg.starts_with("<svg ") && drawn.svg.ends_with("</svg>"));
        assert!(!drawn.svg.contains("<?xml"));
    }

    #[test]
    fn runs_cover_exactly_the_dark_modules() {
        let p = payload("Mutuelle Exemple", None);
        let code = QrCode::with_error_correction_level(p.as_bytes(), EcLevel::M).expect("code");
        let dark = code
            .to_colors()
            .iter()
            .filter(|c| **c == Color::Dark)
            .count();
        let drawn = draw(&p, "l").expect("drawn");
        let covered: usize = drawn
            .svg
            .split('h')
            .skip(1)
            .map(|s| {
                s.split('v')
                    .next()
                    .unwrap_or("0")
                    .parse::<usize>()
                    .unwrap_or(0)
            })
            .sum();
        assert_eq!(covered, dark);
    }

    #[test]
    fn more_than_version_13_is_refused() {
        let big = "A".repeat(700);
        assert!(matches!(draw(&big, "l"), Err(QrError::TooLarge(v)) if v > MAX_VERSION));
    }
}
