//! The two languages the core writes member-facing text in (amounts, explanations).

/// A reader's language: French, or English for everyone else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Language {
    /// French: `19,00 €`, the explanations as the insurer words them.
    #[default]
    Fr,
    /// English: `€19.00`.
    En,
}

impl Language {
    /// An amount of cents for this reader.
    pub fn amount(self, cents: i64) -> String {
        match self {
            Self::Fr => crate::domain::money::display_fr(cents),
            Self::En => crate::domain::money::display_en(cents),
        }
    }

    /// This reader's half of a sentence written in both languages.
    pub fn pick(self, sentence: &super::Explanation) -> &str {
        match self {
            Self::Fr => &sentence.fr,
            Self::En => &sentence.en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::coverage::Explanation;

    #[test]
    fn each_reader_gets_their_own_text() {
        assert_eq!(Language::En.amount(123_450), "€1,234.50");
        assert!(Language::Fr.amount(1900).starts_with("19,00"));
        let e = Explanation {
            fr: "Base : 30,00 €.".into(),
            en: "Base: €30.00.".into(),
        };
        assert_eq!(Language::Fr.pick(&e), "Base : 30,00 €.");
        assert_eq!(Language::En.pick(&e), "Base: €30.00.");
    }
}
