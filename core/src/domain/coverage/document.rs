//! The quote document of docs/coverage.md: the JSON an offline calculator reads
//! (`tierspay quote FILE --json`), and the answer it prints.
//!
//! Parsing is strict so that a wrong document never yields figures: money and rates are
//! decimal strings (`"30.00"`, `"0.70"`), flags are booleans, `sector` and
//! `pf_count_today_same_provider` are whole numbers, dates are `YYYY-MM-DD`. Unknown fields
//! are refused, naming them. Additions to the contract, all optional:
//! - `beneficiary.ame` (boolean, default `false`): covered by the Aide médicale de l'État;
//! - `provider.specialty` (text): informative, not used by the rules;
//! - `act.base_non_optam` may be absent or `null` when the catalogue has no lower tariff.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use time::{Date, Month};

use super::model::{
    Act, BeneficiaryTerms, CareCategory, GuaranteeLine, ProviderTerms, Quote, QuoteError,
    QuoteRequest,
};
use super::money::{rate_string, two_places};

/// Reads a quote document. Errors name the field by its dotted path (`"act.amo_rate"`), or
/// `"document"` when the text is not a JSON object; ranges are checked too, as
/// [`super::quote`] does.
pub fn parse_document(json: &str) -> Result<QuoteRequest, QuoteError> {
    let value: Value = serde_json::from_str(json).map_err(|error| {
        QuoteError::new(
            "document",
            format!(
                "is not valid JSON (line {}, column {})",
                error.line(),
                error.column()
            ),
        )
    })?;
    let request = request_from(&value)?;
    super::validate::request(&request)?;
    Ok(request)
}

/// The answer document of a quote: `amo`, `amc`, `member`, `base` (two-place decimal
/// strings), `amo_rate` (decimal string), `deductions` (`[{"kind", "amount"}]`),
/// `guarantee_applied` and `explanations` (`[{"fr", "en"}]`).
pub fn answer_document(quote: &Quote) -> Value {
    json!({
        "amo": two_places(quote.amo),
        "amc": two_places(quote.amc),
        "member": two_places(quote.member),
        "base": two_places(quote.base),
        "amo_rate": rate_string(quote.amo_rate),
        "deductions": quote.deductions.iter().map(|deduction| json!({
            "kind": deduction.kind.as_str(),
            "amount": two_places(deduction.amount),
        })).collect::<Vec<_>>(),
        "guarantee_applied": quote.guarantee_applied,
        "explanations": quote.explanations.iter().map(|explanation| json!({
            "fr": explanation.fr,
            "en": explanation.en,
        })).collect::<Vec<_>>(),
    })
}

/// Parses a quote document, quotes it and answers: what `tierspay quote FILE --json` prints.
pub fn quote_document(json: &str) -> Result<Value, QuoteError> {
    let request = parse_document(json)?;
    super::quote(&request).map(|quote| answer_document(&quote))
}

/// The quote document of `req`: [`parse_document`] reads it back to `req`. Handy to show or
/// store the exact input of a figure so that anyone can check it offline.
pub fn request_document(req: &QuoteRequest) -> Value {
    let guarantee = match &req.guarantee {
        GuaranteeLine::PercentOfBase {
            percent_br,
            percent_br_non_optam,
            includes_amo,
        } => json!({
            "percent_br": percent_br.to_string(),
            "percent_br_non_optam": percent_br_non_optam.to_string(),
            "includes_amo": includes_amo,
        }),
        GuaranteeLine::EuroAmount {
            euro_amount,
            ceiling_remaining,
        } => json!({
            "euro_amount": euro_amount.to_string(),
            "ceiling_remaining": ceiling_remaining.to_string(),
        }),
    };
    let b = &req.beneficiary;
    json!({
        "date": date_string(req.date),
        "price": req.price.to_string(),
        "act": {
            "code": req.act.code,
            "category": req.act.category.as_str(),
            "base": req.act.base.to_string(),
            "base_non_optam": req.act.base_non_optam.map(|base| base.to_string()),
            "amo_rate": req.act.amo_rate.to_string(),
            "pf": req.act.pf,
            "franchise": req.act.franchise.to_string(),
        },
        "provider": {
            "sector": req.provider.sector,
            "optam": req.provider.optam,
            "direct_access": req.provider.direct_access,
        },
        "beneficiary": {
            "birth_date": date_string(b.birth_date),
            "in_parcours": b.in_parcours,
            "ald": b.ald,
            "css": b.css,
            "ame": b.ame,
            "pregnant_6m": b.pregnant_6m,
            "pf_paid_this_year": b.pf_paid_this_year.to_string(),
            "franchise_paid_this_year": b.franchise_paid_this_year.to_string(),
            "pf_count_today_same_provider": b.pf_count_today_same_provider,
        },
        "guarantee": guarantee,
    })
}

fn date_string(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// One JSON object of the document, with its dotted path for errors.
struct Object<'a> {
    path: &'a str,
    map: &'a Map<String, Value>,
}

impl<'a> Object<'a> {
    fn new(value: &'a Value, path: &'a str) -> Result<Self, QuoteError> {
        match value {
            Value::Object(map) => Ok(Object { path, map }),
            _ => Err(QuoteError::new(path, "must be a JSON object")),
        }
    }

    fn path(&self, name: &str) -> String {
        if self.path == "document" {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// An error about the field `name`: its path is written only when there is an error.
    fn error(&self, name: &str, message: &str) -> QuoteError {
        QuoteError::new(self.path(name), message)
    }

    /// Refuses any field not in `known`.
    fn only(&self, known: &[&str]) -> Result<(), QuoteError> {
        match self.map.keys().find(|key| !known.contains(&key.as_str())) {
            Some(unknown) => Err(self.error(unknown, "is not a field of the quote document")),
            None => Ok(()),
        }
    }

    fn get(&self, name: &str) -> Result<&'a Value, QuoteError> {
        self.map
            .get(name)
            .ok_or_else(|| self.error(name, "is required"))
    }

    /// A field that may be absent or `null`.
    fn optional(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|value| !value.is_null())
    }

    fn object(&self, name: &str, path: &'a str) -> Result<Object<'a>, QuoteError> {
        Object::new(self.get(name)?, path)
    }

    fn decimal(&self, name: &str) -> Result<Decimal, QuoteError> {
        decimal(self.get(name)?).map_err(|message| self.error(name, message))
    }

    fn boolean(&self, name: &str) -> Result<bool, QuoteError> {
        boolean(self.get(name)?).map_err(|message| self.error(name, message))
    }

    fn text(&self, name: &str) -> Result<&'a str, QuoteError> {
        text(self.get(name)?).map_err(|message| self.error(name, message))
    }

    fn date(&self, name: &str) -> Result<Date, QuoteError> {
        parse_date(self.text(name)?)
            .ok_or_else(|| self.error(name, "must be a date written YYYY-MM-DD"))
    }

    fn whole_number(&self, name: &str) -> Result<u64, QuoteError> {
        self.get(name)?
            .as_u64()
            .ok_or_else(|| self.error(name, "must be a whole number from 0"))
    }
}

/// What is wrong with a value, before the field is named.
type Parsed<T> = Result<T, &'static str>;

fn boolean(value: &Value) -> Parsed<bool> {
    value.as_bool().ok_or("must be true or false")
}

fn text(value: &Value) -> Parsed<&str> {
    value.as_str().ok_or("must be a text")
}

/// A decimal string: an optional minus sign, digits, and optionally a point and digits. The
/// shape is checked first because `Decimal::from_str` also accepts `1_000` and the like.
fn decimal(value: &Value) -> Parsed<Decimal> {
    const SHAPE: &str = "must be a decimal string such as \"30.00\"";
    let text = value.as_str().ok_or(SHAPE)?;
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    let well_formed = (1..=15).contains(&whole.len())
        && (1..=15).contains(&fraction.len())
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit());
    if !well_formed {
        return Err(SHAPE);
    }
    let mut decimal = Decimal::from_str(text).map_err(|_| SHAPE)?;
    if decimal.is_zero() {
        decimal.set_sign_positive(true);
    }
    Ok(decimal)
}

/// `YYYY-MM-DD`, a real calendar day.
fn parse_date(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shaped {
        return None;
    }
    let year: i32 = text[0..4].parse().ok()?;
    let month: u8 = text[5..7].parse().ok()?;
    let day: u8 = text[8..10].parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

fn request_from(value: &Value) -> Result<QuoteRequest, QuoteError> {
    let doc = Object::new(value, "document")?;
    doc.only(&[
        "date",
        "price",
        "act",
        "provider",
        "beneficiary",
        "guarantee",
    ])?;
    let date = doc.date("date")?;
    let price = doc.decimal("price")?;

    let act = doc.object("act", "act")?;
    act.only(&[
        "code",
        "category",
        "base",
        "base_non_optam",
        "amo_rate",
        "pf",
        "franchise",
    ])?;
    let act = Act {
        code: act.text("code")?.to_owned(),
        category: CareCategory::from_str(act.text("category")?).map_err(|_| {
            QuoteError::new(
                "act.category",
                "must be one of consultation, specialist, dental, optical, pharmacy, lab, \
                 radiology, auxiliary, midwife, hospital, transport, other",
            )
        })?,
        base: act.decimal("base")?,
        base_non_optam: act
            .optional("base_non_optam")
            .map(decimal)
            .transpose()
            .map_err(|message| QuoteError::new("act.base_non_optam", message))?,
        amo_rate: act.decimal("amo_rate")?,
        pf: act.boolean("pf")?,
        franchise: act.decimal("franchise")?,
    };

    let provider = doc.object("provider", "provider")?;
    provider.only(&["sector", "optam", "direct_access", "specialty"])?;
    if let Some(specialty) = provider.optional("specialty") {
        text(specialty).map_err(|message| QuoteError::new("provider.specialty", message))?;
    }
    let provider = ProviderTerms {
        sector: u8::try_from(provider.whole_number("sector")?)
            .map_err(|_| QuoteError::new("provider.sector", "must be 1, 2 or 3"))?,
        optam: provider.boolean("optam")?,
        direct_access: provider.boolean("direct_access")?,
    };

    let b = doc.object("beneficiary", "beneficiary")?;
    b.only(&[
        "birth_date",
        "in_parcours",
        "ald",
        "css",
        "ame",
        "pregnant_6m",
        "pf_paid_this_year",
        "franchise_paid_this_year",
        "pf_count_today_same_provider",
    ])?;
    let beneficiary = BeneficiaryTerms {
        birth_date: b.date("birth_date")?,
        in_parcours: b.boolean("in_parcours")?,
        ald: b.boolean("ald")?,
        css: b.boolean("css")?,
        ame: b
            .optional("ame")
            .map(boolean)
            .transpose()
            .map_err(|message| QuoteError::new("beneficiary.ame", message))?
            .unwrap_or(false),
        pregnant_6m: b.boolean("pregnant_6m")?,
        pf_paid_this_year: b.decimal("pf_paid_this_year")?,
        franchise_paid_this_year: b.decimal("franchise_paid_this_year")?,
        pf_count_today_same_provider: u32::try_from(
            b.whole_number("pf_count_today_same_provider")?,
        )
        .map_err(|_| {
            QuoteError::new(
                "beneficiary.pf_count_today_same_provider",
                "must be a whole number from 0",
            )
        })?,
    };

    let g = doc.object("guarantee", "guarantee")?;
    let has = |names: &[&str]| names.iter().any(|name| g.map.contains_key(*name));
    let euro_line = has(&["euro_amount", "ceiling_remaining"]);
    if euro_line && has(&["percent_br", "percent_br_non_optam", "includes_amo"]) {
        return Err(QuoteError::new(
            "guarantee",
            "must be either a percentage line or a euro-amount line, not both",
        ));
    }
    let guarantee = if euro_line {
        g.only(&["euro_amount", "ceiling_remaining"])?;
        GuaranteeLine::EuroAmount {
            euro_amount: g.decimal("euro_amount")?,
            ceiling_remaining: g.decimal("ceiling_remaining")?,
        }
    } else {
        g.only(&["percent_br", "percent_br_non_optam", "includes_amo"])?;
        GuaranteeLine::PercentOfBase {
            percent_br: g.decimal("percent_br")?,
            percent_br_non_optam: g.decimal("percent_br_non_optam")?,
            includes_amo: g.boolean("includes_amo")?,
        }
    };

    Ok(QuoteRequest {
        date,
        price,
        act,
        provider,
        beneficiary,
        guarantee,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    /// The example document of docs/coverage.md, verbatim.
    pub(crate) const EXAMPLE: &str = r#"{
  "date": "2026-03-02",
  "price": "30.00",
  "act": {"code": "G", "category": "consultation", "base": "30.00",
          "base_non_optam": "23.00", "amo_rate": "0.70", "pf": true, "franchise": "0.00"},
  "provider": {"sector": 1, "optam": false, "direct_access": false},
  "beneficiary": {"birth_date": "1985-04-12", "in_parcours": true, "ald": false, "css": false,
                  "pregnant_6m": false, "pf_paid_this_year": "0.00",
                  "franchise_paid_this_year": "0.00", "pf_count_today_same_provider": 0},
  "guarantee": {"percent_br": "100", "percent_br_non_optam": "100", "includes_amo": true}
}"#;

    fn edited(edit: impl FnOnce(&mut Value)) -> String {
        let mut value: Value = serde_json::from_str(EXAMPLE).unwrap();
        edit(&mut value);
        value.to_string()
    }

    fn error_of(json: &str) -> QuoteError {
        let error = quote_document(json).expect_err("a refused document");
        assert_eq!(parse_document(json).unwrap_err(), error);
        error
    }

    #[test]
    fn the_example_document_answers_the_worked_figures() {
        let answer = quote_document(EXAMPLE).unwrap();
        assert_eq!(answer["amo"], "19.00");
        assert_eq!(answer["amc"], "9.00");
        assert_eq!(answer["member"], "2.00");
        assert_eq!(answer["base"], "30.00");
        assert_eq!(answer["amo_rate"], "0.70");
        assert_eq!(
            answer["deductions"],
            json!([{"kind": "participation_forfaitaire", "amount": "2.00"}])
        );
        assert_eq!(answer["guarantee_applied"], "100 % BR incl. SS");
        let explanations = answer["explanations"].as_array().unwrap();
        assert!(!explanations.is_empty());
        for explanation in explanations {
            assert!(explanation["fr"].as_str().is_some_and(|s| !s.is_empty()));
            assert!(explanation["en"].as_str().is_some_and(|s| !s.is_empty()));
        }
    }

    #[test]
    fn the_example_document_parses_to_its_request() {
        let req = parse_document(EXAMPLE).unwrap();
        assert_eq!(req.date, date!(2026 - 03 - 02));
        assert_eq!(req.price, Decimal::new(3000, 2));
        assert_eq!(req.act.category, CareCategory::Consultation);
        assert_eq!(req.act.base_non_optam, Some(Decimal::new(2300, 2)));
        assert_eq!(req.provider.sector, 1);
        assert!(!req.beneficiary.ame);
        assert_eq!(parse_document(&request_document(&req).to_string()), Ok(req));
    }

    #[test]
    fn refused_documents_name_the_field_and_give_no_figures() {
        let cases: Vec<(String, &str)> = vec![
            ("{\"date\": ".to_owned(), "document"),
            ("[1, 2]".to_owned(), "document"),
            (edited(|v| v["price"] = json!("-30.00")), "price"),
            (edited(|v| v["price"] = json!(30)), "price"),
            (edited(|v| v["price"] = json!("30,00")), "price"),
            (edited(|v| v["price"] = json!("1_000")), "price"),
            (edited(|v| v["price"] = json!("30.001")), "price"),
            (
                edited(|v| v["provider"]["sector"] = json!(4)),
                "provider.sector",
            ),
            (
                edited(|v| v["provider"]["sector"] = json!(0)),
                "provider.sector",
            ),
            (
                edited(|v| v["provider"]["sector"] = json!(300)),
                "provider.sector",
            ),
            (
                edited(|v| v["provider"]["sector"] = json!("1")),
                "provider.sector",
            ),
            (
                edited(|v| v["act"]["amo_rate"] = json!("1.10")),
                "act.amo_rate",
            ),
            (
                edited(|v| v["act"]["amo_rate"] = json!("70")),
                "act.amo_rate",
            ),
            (edited(|v| v["date"] = json!("2026-02-30")), "date"),
            (edited(|v| v["date"] = json!("02/03/2026")), "date"),
            (edited(|v| v["date"] = json!(20260302)), "date"),
            (
                edited(|v| v["beneficiary"]["birth_date"] = json!("2027-01-01")),
                "beneficiary.birth_date",
            ),
            (edited(|v| v["act"]["pf"] = json!("true")), "act.pf"),
            (
                edited(|v| v["act"]["category"] = json!("dentist")),
                "act.category",
            ),
            (edited(|v| v["act"]["code"] = json!("")), "act.code"),
            (
                edited(|v| v["beneficiary"]["pf_count_today_same_provider"] = json!(-1)),
                "beneficiary.pf_count_today_same_provider",
            ),
            (
                edited(|v| v["beneficiary"]["pf_count_today_same_provider"] = json!(1.5)),
                "beneficiary.pf_count_today_same_provider",
            ),
            (
                edited(|v| v["beneficiary"]["ame"] = json!("no")),
                "beneficiary.ame",
            ),
            (
                edited(|v| {
                    v["act"].as_object_mut().unwrap().remove("base");
                }),
                "act.base",
            ),
            (
                edited(|v| {
                    v.as_object_mut().unwrap().remove("guarantee");
                }),
                "guarantee",
            ),
            (edited(|v| v["act"] = json!("G")), "act"),
            (edited(|v| v["act"]["colour"] = json!("blue")), "act.colour"),
            (edited(|v| v["extra"] = json!(1)), "extra"),
            (
                edited(|v| v["guarantee"] = json!({"euro_amount": "150.00"})),
                "guarantee.ceiling_remaining",
            ),
            (
                edited(|v| v["guarantee"]["euro_amount"] = json!("150.00")),
                "guarantee",
            ),
            (
                edited(|v| v["guarantee"]["percent_br"] = json!("-5")),
                "guarantee.percent_br",
            ),
            (
                edited(|v| {
                    v["provider"]["sector"] = json!(3);
                    v["provider"]["optam"] = json!(true);
                }),
                "provider.optam",
            ),
        ];
        for (json, field) in cases {
            let error = error_of(&json);
            assert_eq!(error.field, field, "{json}: {error}");
            assert!(!error.message.is_empty());
        }
    }

    #[test]
    fn documented_additions_are_accepted() {
        let json = edited(|v| {
            v["beneficiary"]["ame"] = json!(true);
            v["provider"]["specialty"] = json!("general practice");
            v["act"]["base_non_optam"] = Value::Null;
        });
        let req = parse_document(&json).unwrap();
        assert!(req.beneficiary.ame);
        assert_eq!(req.act.base_non_optam, None);
        // AME exempts the PF: the member pays nothing with a 100 % contract.
        assert_eq!(quote_document(&json).unwrap()["member"], "0.00");
    }

    #[test]
    fn a_euro_amount_line_reads_as_documented() {
        let json = edited(|v| {
            v["guarantee"] = json!({"euro_amount": "150.00", "ceiling_remaining": "150.00"});
        });
        let req = parse_document(&json).unwrap();
        assert_eq!(
            req.guarantee,
            GuaranteeLine::EuroAmount {
                euro_amount: Decimal::new(15000, 2),
                ceiling_remaining: Decimal::new(15000, 2),
            }
        );
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(parse_date("2024-02-29"), Some(date!(2024 - 02 - 29)));
        assert_eq!(parse_date("2025-02-29"), None);
        assert_eq!(parse_date("2026-3-02"), None);
        assert_eq!(parse_date("+2026-03-02"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("２０２６-03-02"), None);
    }
}
