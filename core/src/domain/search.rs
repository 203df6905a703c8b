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

/// A searchable collection. Documents share a vocabulary, so a search compares each query word
/// with each distinct word once (a directory of 50,000 providers has a few hundred), then scores
/// documents by table look-ups.
pub struct Index<T> {
    vocabulary: std::collections::HashMap<String, u32>,
    words: Vec<String>,
    entries: Vec<(Vec<u32>, T)>,
}

impl<T> Default for Index<T> {
    fn default() -> Self {
        Self {
            vocabulary: Default::default(),
            words: Vec::new(),
            entries: Vec::new(),
        }
    }
}

impl<T> Index<T> {
    /// Adds a document made of `fields`.
    pub fn add(&mut self, fields: &[&str], item: T) {
        let ids = tokens(fields)
            .into_iter()
            .map(|word| match self.vocabulary.get(&word) {
                Some(id) => *id,
                None => {
                    let id = self.words.len() as u32;
                    self.vocabulary.insert(word.clone(), id);
                    self.words.push(word);
                    id
                }
            })
            .collect();
        self.entries.push((ids, item));
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Documents that `keep` accepts and the query matches, best first (ties in insertion
    /// order), at most `limit`; the flag says whether more matched.
    pub fn search(
        &self,
        query: &Query,
        keep: impl Fn(&T) -> bool,
        limit: usize,
    ) -> (Vec<&T>, bool) {
        // Per query word, the score of every word of the vocabulary (None: no match).
        let table: Vec<Vec<Option<u32>>> = query
            .words
            .iter()
            .map(|q| self.words.iter().map(|w| word_score(q, w)).collect())
            .collect();
        let mut hits: Vec<(u32, usize)> = Vec::new();
        'entries: for (position, (ids, item)) in self.entries.iter().enumerate() {
            let mut total = 0;
            for scores in &table {
                match ids.iter().filter_map(|id| scores[*id as usize]).max() {
                    Some(s) => total += s,
                    None => continue 'entries,
                }
            }
            if keep(item) {
                hits.push((total, position));
            }
        }
        let has_more = hits.len() > limit;
        let order = |a: &(u32, usize), b: &(u32, usize)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
        if limit > 0 && limit < hits.len() {
            hits.select_nth_unstable_by(limit - 1, order);
            hits.truncate(limit);
        }
        hits.sort_by(order);
        (
            hits.into_iter()
                .take(limit)
                .map(|(_, i)| &self.entries[i].1)
                .collect(),
            has_more,
        )
    }
}

fn word_score(query: &str, word: &str) -> Option<u32> {
    let (q, w) = (query.as_bytes(), word.as_bytes());
    if q == w {
        return Some(100);
    }
    if w.starts_with(q) {
        return Some(60 + (40 * q.len() / w.len().max(1)) as u32);
    }
    let allowed = match q.len() {
        0..=3 => return None,
        4..=7 => 1,
        _ => 2,
    };
    // A typo in the whole word, or in the word's beginning (the member typed a prefix).
    let distance = if w.len().abs_diff(q.len()) <= allowed {
        bounded_levenshtein(q, w, allowed)
    } else {
        None
    }
    .or_else(|| {
        (w.len() > q.len())
            .then(|| bounded_levenshtein(q, &w[..q.len()], allowed))
            .flatten()
    })?;
    Some(if distance == 1 { 40 } else { 20 })
}

/// Longest word compared for typos; longer words only match exactly or by prefix.
const MAX_WORD: usize = 48;

/// Levenshtein distance over bytes if at most `max`, without allocating, stopping as soon as
/// a whole row exceeds `max`. (On accented text the folding has already made words ASCII.)
fn bounded_levenshtein(a: &[u8], b: &[u8], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max || a.len() > MAX_WORD || b.len() > MAX_WORD {
        return None;
    }
    let mut prev = [0usize; MAX_WORD + 1];
    let mut cur = [0usize; MAX_WORD + 1];
    for (j, slot) in prev.iter_mut().enumerate().take(b.len() + 1) {
        *slot = j;
    }
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
    fn the_index_ranks_and_filters_like_the_query() {
        let mut index = Index::default();
        index.add(&["Dr Martin", "Pédiatre", "Lyon"], 1);
        index.add(&["Dr Martine Roux", "Dentiste", "Lyon"], 2);
        index.add(&["Dr Marten", "Pédiatre", "Paris"], 3);
        let (hits, more) = index.search(&Query::parse("martin"), |_| true, 10);
        assert_eq!(hits, vec![&1, &2, &3]);
        assert!(!more);
        let (hits, more) = index.search(&Query::parse("martin"), |id| *id != 2, 1);
        assert_eq!((hits, more), (vec![&1], true));
        let (hits, _) = index.search(&Query::parse("pediatre paris"), |_| true, 10);
        assert_eq!(hits, vec![&3]);
        assert_eq!(index.search(&Query::parse(""), |_| true, 2).0, vec![&1, &2]);
        assert_eq!(index.len(), 3);
    }

    #[test]
    fn levenshtein_is_bounded() {
        assert_eq!(bounded_levenshtein(b"kitten", b"sitting", 3), Some(3));
        assert_eq!(bounded_levenshtein(b"kitten", b"sitting", 2), None);
        assert_eq!(bounded_levenshtein(b"", b"ab", 2), Some(2));
        assert_eq!(normalize("Œil-de-Bœuf, Ça"), "oeil de boeuf  ca");
    }
}
