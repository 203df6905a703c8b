//! Stripe's wire format for parameters: `application/x-www-form-urlencoded` bodies and query
//! strings with bracket notation, as Stripe's client libraries send them:
//! `metadata[k]=v`, `expand[]=number` or `expand[0]=number`,
//! `spending_controls[spending_limits][0][amount]=100` or `…[spending_limits][][amount]=100`.
//!
//! Parameters are parsed into a tree, then read field by field; whatever was not read is an
//! unknown parameter and refused by name, as Stripe does.

use crate::http::ApiError;

/// Most brackets in one parameter name: Stripe's deepest real parameters nest 4–5 levels
/// (`spending_controls[spending_limits][0][categories][0]`). It also bounds the recursion of
/// [`insert`], whose depth is the number of brackets.
pub const MAX_NESTING: usize = 6;
/// Most parameters in one body or query string.
pub const MAX_PARAMS: usize = 512;
/// Longest parameter name.
const MAX_NAME_BYTES: usize = 256;

/// A parsed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A plain value.
    Str(String),
    /// `key[sub]=…` entries, in order (numeric keys are list indexes).
    Map(Vec<(String, Node)>),
    /// `key[]=…` entries, in order.
    List(Vec<Node>),
}

fn unknown(param: &str) -> ApiError {
    let mut e = ApiError::invalid_param(param, format!("Received unknown parameter: {param}"));
    e.detail.code = "parameter_unknown".into();
    e.not_executed()
}

/// 400 naming the field, before the endpoint ran (not stored against an idempotency key).
pub fn invalid(param: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid_param(param, message).not_executed()
}

fn malformed(key: &str) -> ApiError {
    invalid(key, format!("The parameter name `{key}` is malformed."))
}

/// Splits `a[b][]` into `["a", "b", ""]`.
fn segments(key: &str) -> Result<Vec<String>, ApiError> {
    if key.len() > MAX_NAME_BYTES {
        // Name the parameter as the endpoint knows it: its head, before any bracket.
        let shown: String = key
            .split('[')
            .next()
            .unwrap_or(key)
            .chars()
            .take(40)
            .collect();
        return Err(invalid(
            &shown,
            format!("Parameter names have at most {MAX_NAME_BYTES} characters."),
        ));
    }
    let (head, mut rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    if head.is_empty() {
        return Err(malformed(key));
    }
    let mut out = vec![head.to_owned()];
    while !rest.is_empty() {
        let Some(close) = rest.find(']').filter(|_| rest.starts_with('[')) else {
            return Err(malformed(key));
        };
        out.push(rest[1..close].to_owned());
        rest = &rest[close + 1..];
        if out.len() > MAX_NESTING + 1 {
            return Err(invalid(
                &out[0],
                format!(
                    "The parameter `{}` nests deeper than {MAX_NESTING} levels.",
                    out[0]
                ),
            ));
        }
    }
    Ok(out)
}

fn insert(
    entries: &mut Vec<(String, Node)>,
    segs: &[String],
    value: String,
    key: &str,
) -> Result<(), ApiError> {
    let (first, rest) = segs.split_first().ok_or_else(|| malformed(key))?;
    let pos = entries.iter().position(|(k, _)| k == first);
    if rest.is_empty() {
        if pos.is_some() {
            return Err(invalid(
                key,
                format!("The parameter `{key}` was given more than once."),
            ));
        }
        entries.push((first.clone(), Node::Str(value)));
        return Ok(());
    }
    let idx = match pos {
        Some(i) => i,
        None => {
            let node = if rest[0].is_empty() {
                Node::List(vec![])
            } else {
                Node::Map(vec![])
            };
            entries.push((first.clone(), node));
            entries.len() - 1
        }
    };
    insert_into(&mut entries[idx].1, rest, value, key)
}

fn insert_into(node: &mut Node, segs: &[String], value: String, key: &str) -> Result<(), ApiError> {
    match node {
        Node::Map(entries) if !segs[0].is_empty() => insert(entries, segs, value, key),
        Node::List(items) if segs[0].is_empty() => {
            let rest = &segs[1..];
            if rest.is_empty() {
                items.push(Node::Str(value));
                return Ok(());
            }
            // `a[][k]=v`: a new element starts when the last one already has `k`.
            let reuse =
                matches!(items.last(), Some(Node::Map(e)) if !e.iter().any(|(k, _)| *k == rest[0]));
            if !reuse {
                items.push(if rest[0].is_empty() {
                    Node::List(vec![])
                } else {
                    Node::Map(vec![])
                });
            }
            let last = items.last_mut().ok_or_else(|| malformed(key))?;
            insert_into(last, rest, value, key)
        }
        _ => Err(invalid(
            key,
            format!("The parameter `{key}` mixes a value, a list and a hash."),
        )),
    }
}

/// Parses a form body or query string.
pub fn parse(raw: &[u8]) -> Result<Fields, ApiError> {
    let mut entries = Vec::new();
    for (count, (key, value)) in form_urlencoded::parse(raw).enumerate() {
        if count >= MAX_PARAMS {
            return Err(invalid(
                &key.chars().take(40).collect::<String>(),
                format!("A request has at most {MAX_PARAMS} parameters."),
            ));
        }
        let segs = segments(&key)?;
        insert(&mut entries, &segs, value.into_owned(), &key)?;
    }
    Ok(Fields {
        prefix: String::new(),
        entries,
    })
}

/// Parameters not read yet, under a prefix (`spending_controls`), for error names.
#[derive(Debug, Clone)]
pub struct Fields {
    prefix: String,
    entries: Vec<(String, Node)>,
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}[{key}]")
    }
}

/// A list element: its parameter name and value.
pub type Item = (String, Node);

/// Metadata changes: a key and its new value (`None` removes the key).
pub type MetadataChanges = Vec<(String, Option<String>)>;

impl Fields {
    /// The full name of `key` here.
    pub fn name(&self, key: &str) -> String {
        join(&self.prefix, key)
    }

    fn take(&mut self, key: &str) -> Option<Node> {
        let pos = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(pos).1)
    }

    /// A plain value.
    pub fn str(&mut self, key: &str) -> Result<Option<String>, ApiError> {
        match self.take(key) {
            None => Ok(None),
            Some(Node::Str(s)) => Ok(Some(s)),
            Some(_) => Err(invalid(
                &self.name(key),
                format!("Invalid string: {} must be a plain value.", self.name(key)),
            )),
        }
    }

    /// A required plain value.
    pub fn required(&mut self, key: &str) -> Result<String, ApiError> {
        let name = self.name(key);
        self.str(key)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid(&name, format!("Missing required param: {name}.")))
    }

    /// A whole number.
    pub fn int(&mut self, key: &str) -> Result<Option<i64>, ApiError> {
        let name = self.name(key);
        self.str(key)?
            .map(|s| {
                s.parse::<i64>()
                    .map_err(|_| invalid(&name, format!("Invalid integer: {s}")))
            })
            .transpose()
    }

    /// One of `allowed`.
    pub fn one_of(&mut self, key: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
        let name = self.name(key);
        match self.str(key)? {
            Some(v) if !allowed.contains(&v.as_str()) => Err(invalid(
                &name,
                format!("Invalid {name}: must be one of {}", allowed.join(", ")),
            )),
            other => Ok(other),
        }
    }

    /// A list (`k[]=…` or `k[0]=…`), each element with its parameter name. An empty value
    /// (`k=`) is an empty list, which Stripe reads as "unset".
    pub fn list(&mut self, key: &str) -> Result<Option<Vec<Item>>, ApiError> {
        let name = self.name(key);
        match self.take(key) {
            None => Ok(None),
            Some(Node::Str(s)) if s.is_empty() => Ok(Some(vec![])),
            Some(Node::Str(_)) => Err(invalid(
                &name,
                format!("Invalid array: {name} must be a list."),
            )),
            Some(Node::List(items)) => Ok(Some(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, n)| (format!("{name}[{i}]"), n))
                    .collect(),
            )),
            Some(Node::Map(entries)) => {
                let mut indexed = Vec::with_capacity(entries.len());
                for (k, n) in entries {
                    let i: usize = k.parse().map_err(|_| {
                        invalid(
                            &format!("{name}[{k}]"),
                            format!("Invalid array: {name} must be a list."),
                        )
                    })?;
                    indexed.push((i, n));
                }
                indexed.sort_by_key(|(i, _)| *i);
                Ok(Some(
                    indexed
                        .into_iter()
                        .enumerate()
                        .map(|(i, (_, n))| (format!("{name}[{i}]"), n))
                        .collect(),
                ))
            }
        }
    }

    /// A list of plain values.
    pub fn strings(&mut self, key: &str) -> Result<Option<Vec<String>>, ApiError> {
        let Some(items) = self.list(key)? else {
            return Ok(None);
        };
        items
            .into_iter()
            .map(|(name, node)| match node {
                Node::Str(s) => Ok(s),
                _ => Err(invalid(
                    &name,
                    format!("Invalid string: {name} must be a plain value."),
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A hash (`k[sub]=…`). An empty value (`k=`) is an empty hash.
    pub fn map(&mut self, key: &str) -> Result<Option<Fields>, ApiError> {
        let name = self.name(key);
        match self.take(key) {
            None => Ok(None),
            Some(Node::Str(s)) if s.is_empty() => Ok(Some(Fields {
                prefix: name,
                entries: vec![],
            })),
            Some(Node::Map(entries)) => Ok(Some(Fields {
                prefix: name,
                entries,
            })),
            Some(_) => Err(invalid(
                &name,
                format!("Invalid hash: {name} must be a hash."),
            )),
        }
    }

    /// A list element that must be a hash.
    pub fn item_map((name, node): Item) -> Result<Fields, ApiError> {
        match node {
            Node::Map(entries) => Ok(Fields {
                prefix: name,
                entries,
            }),
            _ => Err(invalid(
                &name,
                format!("Invalid hash: {name} must be a hash."),
            )),
        }
    }

    /// `metadata`: up to 50 keys of ≤ 40 characters, values ≤ 500 characters; `metadata[k]=`
    /// (empty) removes a key, reported as `None`.
    pub fn metadata(&mut self) -> Result<Option<MetadataChanges>, ApiError> {
        let Some(mut m) = self.map("metadata")? else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for (k, _) in m.entries.clone() {
            let name = m.name(&k);
            let v = m.str(&k)?.unwrap_or_default();
            if k.chars().count() > 40 {
                return Err(invalid(
                    &name,
                    "Metadata keys can have up to 40 characters.",
                ));
            }
            if v.chars().count() > 500 {
                return Err(invalid(
                    &name,
                    "Metadata values can have up to 500 characters.",
                ));
            }
            out.push((k, (!v.is_empty()).then_some(v)));
        }
        if out.len() > 50 {
            return Err(invalid("metadata", "Metadata can have up to 50 keys."));
        }
        Ok(Some(out))
    }

    /// `expand[]`: the fields to expand.
    pub fn expand(&mut self) -> Result<Vec<String>, ApiError> {
        Ok(self.strings("expand")?.unwrap_or_default())
    }

    /// Refuses whatever was not read.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.entries.first() {
            None => Ok(()),
            Some((k, node)) => {
                let mut name = join(&self.prefix, k);
                // Name the first leaf, as Stripe does (`foo[bar]`, not `foo`).
                let mut n = node;
                loop {
                    match n {
                        Node::Map(e) if !e.is_empty() => {
                            name = format!("{name}[{}]", e[0].0);
                            n = &e[0].1;
                        }
                        _ => break,
                    }
                }
                Err(unknown(&name))
            }
        }
    }
}

/// Applies metadata changes to a stored JSON object (Stripe: `metadata[k]=` removes `k`).
pub fn merge_metadata(
    current: &mut serde_json::Map<String, serde_json::Value>,
    changes: MetadataChanges,
) {
    for (k, v) in changes {
        match v {
            Some(v) => {
                current.insert(k, serde_json::Value::String(v));
            }
            None => {
                current.remove(&k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracket_notation_in_both_list_styles() {
        let mut f = parse(
            b"name=Jo&metadata[a]=1&expand[]=number&expand[]=cvc&\
              spending_controls%5Ballowed_categories%5D%5B0%5D=doctors&spending_controls[allowed_categories][1]=hospitals&\
              spending_controls[spending_limits][][amount]=100&spending_controls[spending_limits][][interval]=daily&\
              spending_controls[spending_limits][][amount]=200&spending_controls[spending_limits][][interval]=weekly",
        )
        .unwrap();
        assert_eq!(f.str("name").unwrap().as_deref(), Some("Jo"));
        assert_eq!(f.expand().unwrap(), vec!["number", "cvc"]);
        assert_eq!(
            f.metadata().unwrap().unwrap(),
            vec![("a".to_owned(), Some("1".to_owned()))]
        );
        let mut sc = f.map("spending_controls").unwrap().unwrap();
        assert_eq!(
            sc.strings("allowed_categories").unwrap().unwrap(),
            vec!["doctors", "hospitals"]
        );
        let limits = sc.list("spending_limits").unwrap().unwrap();
        assert_eq!(limits.len(), 2);
        let mut second = Fields::item_map(limits[1].clone()).unwrap();
        assert_eq!(second.int("amount").unwrap(), Some(200));
        assert_eq!(
            second.name("interval"),
            "spending_controls[spending_limits][1][interval]"
        );
        sc.finish().unwrap();
        f.finish().unwrap();
    }

    #[test]
    fn nesting_and_count_are_bounded() {
        // 2,000 brackets once overflowed the stack; now a 400 naming the parameter.
        let deep = format!("metadata{}=1", "[]".repeat(2000));
        let e = parse(deep.as_bytes()).unwrap_err();
        assert_eq!(e.detail.param.as_deref(), Some("metadata"));
        let ok = format!("a{}=1", "[x]".repeat(MAX_NESTING));
        assert!(parse(ok.as_bytes()).is_ok());
        let too_deep = format!("a{}=1", "[x]".repeat(MAX_NESTING + 1));
        assert!(parse(too_deep.as_bytes()).is_err());
        let many: String = (0..=MAX_PARAMS).map(|i| format!("k{i}=1&")).collect();
        assert!(parse(many.as_bytes()).is_err());
        let long_name = format!("{}=1", "n".repeat(300));
        assert!(parse(long_name.as_bytes()).is_err());
    }

    #[test]
    fn unknown_and_malformed_parameters_are_named() {
        let mut f = parse(b"name=x&billing[address][zip]=1").unwrap();
        f.str("name").unwrap();
        let e = f.finish().unwrap_err();
        assert_eq!(e.detail.param.as_deref(), Some("billing[address][zip]"));
        assert_eq!(e.detail.code, "parameter_unknown");
        assert!(parse(b"a[b=1").is_err());
        assert!(parse(b"a=1&a=2").is_err());
        assert!(parse(b"a=1&a[b]=2").is_err());
        let mut f = parse(b"n=abc").unwrap();
        assert_eq!(f.int("n").unwrap_err().detail.param.as_deref(), Some("n"));
    }
}
