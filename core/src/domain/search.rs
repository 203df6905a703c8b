//! Typo-tolerant search over short texts (provider names, specialties, cities). Pure and shared:
//! the server searches its directory and the phone its cache with the same scoring.
//!
//! Each query word must match a word of the document: exactly, as a prefix, or within one typo
//! (words of 4+ letters) or two typos (8+ letters). Accents and case are ignored.

/// Folds case and French diacritics, turns punctuation into spaces.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let folded = match c {
            'à' | 'â' | 'ä' | 'á' | 'À' | 'Â' | 'Ä' | 'Á' => 'a',
            'ç' | 'Ç' => 'c',
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
            'î' | 'ï' | 'í' | 'Î' | 'Ï' => 'i',
            'ô' | 'ö' | 'ó' | 'Ô' | 'Ö' => 'o',
            'ù' | 'û' | 'ü' | 'ú' | 'Ù' | 'Û' | 'Ü' => 'u',
            'ÿ' | 'Ÿ' => 'y',
            'œ' | 'Œ' => {
                out.push_str("oe");
                continue;
            }
            c if c.is_alphanumeric() => c.to_ascii_lowercase(),
            _ => ' ',
        };
        out.push(folded);
    }
    out
}

/// The words of a document, normalised, for [`Query::score`].
pub fn tokens(fields: &[&str]) -> Vec<String> {
    let mut words: Vec<String> = fields
        .iter()
        .flat_map(|f| {
            normalize(f)
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    words.sort();
    words.dedup();
    words
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    words: Vec<String>,
}

impl Query {
    /// Parses free text; at most 8 words are kept (a search box, not a document).
    pub fn parse(text: &str) -> Self {
        Self {
            words: normalize(text)
                .split_whitespace()
                .take(8)
                .map(str::to_owned)
                .collect(),
        }
    }

    /// True when the query has no word.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// A relevance score when every query word matches a document word; `None` otherwise.
    pub fn score(&self, doc_words: &[String]) -> Option<u32> {
        let mut total = 0;
        for q in &self.words {
            total += doc_words.iter().filter_map(|d| word_score(q, d)).max()?;
        }
        Some(total)
    }
}

fn word_score(query: &str, word: &str) -> Option<u32> {
    if query == word {
        return Some(100);
    }
    if word.starts_with(query) {
        return Some(60 + (40 * query.len() / word.len().max(1)) as u32);
    }
    let allowed = match query.chars().count() {
        0..=3 => return None,
        4..=7 => 1,
        _ => 2,
    };
    // Compare with the word cut to the query's length too, so typos in a prefix still match.
    let cut: String = word.chars().take(query.chars().count()).collect();
    let distance = bounded_levenshtein(query, word, allowed)
        .or_else(|| bounded_levenshtein(query, &cut, allowed))?;
    Some(if distance == 1 { 40 } else { 20 })
}

/// Levenshtein distance if at most `max`, computed on one band of the matrix.
fn bounded_levenshtein(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    (prev[b.len()] <= max).then_some(prev[b.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Vec<String> {
        tokens(&["Dr Hélène Lefèvre", "Ophtalmologue", "Saint-Étienne"])
    }

    #[test]
    fn accents_case_prefixes_and_typos_match() {
        assert!(Query::parse("helene").score(&doc()).is_some());
        assert!(Query::parse("LEFEVRE saint").score(&doc()).is_some());
        assert!(Query::parse("ophtalmo").score(&doc()).is_some());
        assert!(Query::parse("lefebvre").score(&doc()).is_some(), "one typo");
        assert!(
            Query::parse("ophtamologue").score(&doc()).is_some(),
            "one typo, long word"
        );
        assert!(
            Query::parse("ofhtalmo").score(&doc()).is_some(),
            "typo in a prefix"
        );
        assert!(Query::parse("lef etienne").score(&doc()).is_some());
        assert!(Query::parse("martin").score(&doc()).is_none());
        assert!(
            Query::parse("helene dentiste").score(&doc()).is_none(),
            "every word must match"
        );
        assert!(Query::parse("xyz").score(&doc()).is_none());
    }

    #[test]
    fn exact_beats_prefix_beats_typo() {
        let d = tokens(&["martin martine martins"]);
        let exact = Query::parse("martin").score(&d).unwrap();
        let d2 = tokens(&["martineau"]);
        let prefix = Query::parse("martin").score(&d2).unwrap();
        let d3 = tokens(&["marten"]);
        let typo = Query::parse("martin").score(&d3).unwrap();
        assert!(exact > prefix && prefix > typo);
    }

    #[test]
    fn levenshtein_is_bounded() {
        assert_eq!(bounded_levenshtein("kitten", "sitting", 3), Some(3));
        assert_eq!(bounded_levenshtein("kitten", "sitting", 2), None);
        assert_eq!(bounded_levenshtein("", "ab", 2), Some(2));
        assert_eq!(normalize("Œil-de-Bœuf, Ça"), "oeil de boeuf  ca");
    }
}
