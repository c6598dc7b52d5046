//! Operations on text that the language computes itself rather than taking
//! from the host: case, the domain of an email address, the host of a URL,
//! the URLs inside a text, and regular expressions.
//!
//! Every function here is total: text that is not an email address or a
//! URL yields the empty string (or no URLs), which never equals a real
//! domain or host, so a rule that allows only known domains denies it.
//! Regular expressions are compiled once, under [`REGEX_SIZE_LIMIT`], by
//! the `regex` crate, whose matching is linear in the text.

use std::sync::Arc;

use regex::{Regex, RegexBuilder};

use crate::envelope::MAX_ELEMENTS;

/// The most memory a compiled pattern may take. A pattern over this is a
/// compile error, not a slow decision.
pub const REGEX_SIZE_LIMIT: usize = 256 * 1024;

/// The deepest a pattern may nest groups and repetitions.
pub const REGEX_NEST_LIMIT: u32 = 64;

/// The longest pattern text accepted.
pub const REGEX_MAX_LEN: usize = 1024;

/// Why a pattern was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatternError {
    /// Longer than [`REGEX_MAX_LEN`] bytes.
    TooLong(usize),
    /// Compiles to more than [`REGEX_SIZE_LIMIT`] bytes.
    TooLarge,
    /// Not a regular expression: the parser's own message.
    Invalid(String),
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PatternError::TooLong(n) => write!(
                f,
                "the pattern is {n} bytes long; at most {REGEX_MAX_LEN} are accepted"
            ),
            PatternError::TooLarge => write!(
                f,
                "the pattern compiles to more than {} KiB",
                REGEX_SIZE_LIMIT / 1024
            ),
            PatternError::Invalid(why) => write!(f, "{why}"),
        }
    }
}

/// Compiles a pattern under the size, nesting and length limits.
pub fn compile_regex(pattern: &str) -> Result<Regex, PatternError> {
    if pattern.len() > REGEX_MAX_LEN {
        return Err(PatternError::TooLong(pattern.len()));
    }
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
        .map_err(|err| match err {
            regex::Error::CompiledTooBig(_) => PatternError::TooLarge,
            other => PatternError::Invalid(first_line(&other.to_string())),
        })
}

/// The regex crate's messages draw the pattern over several lines; the
/// last line says what is wrong.
fn first_line(message: &str) -> String {
    let last = message
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(message);
    last.trim()
        .trim_start_matches("error: ")
        .to_lowercase()
        .to_string()
}

/// The domain of an email address: what follows its last `@`, lower-cased
/// (domains are case-insensitive). Empty when the text has no `@`, nothing
/// before or after it, or whitespace.
pub fn email_domain(text: &str) -> Arc<str> {
    let Some((local, domain)) = text.trim().rsplit_once('@') else {
        return Arc::from("");
    };
    let domain = domain.trim_end_matches('.');
    if local.is_empty() || domain.is_empty() || domain.contains(char::is_whitespace) {
        return Arc::from("");
    }
    Arc::from(domain.to_lowercase())
}

/// The host of an absolute URL, lower-cased and without a trailing dot or
/// port; IP addresses as written. Empty when the text is not a URL with a
/// host (a relative path, `mailto:`, plain words).
pub fn url_host(text: &str) -> Arc<str> {
    match url::Url::parse(text.trim()) {
        Ok(url) => Arc::from(
            url.host_str()
                .unwrap_or("")
                .trim_end_matches('.')
                .to_lowercase(),
        ),
        Err(_) => Arc::from(""),
    }
}

/// The URLs written in a text, in order, as written. A URL needs a scheme
/// (`https://…`); bare domains are not URLs here, since a sentence ending
/// in a word and a period would otherwise be one.
pub fn urls(text: &str) -> Vec<Arc<str>> {
    let mut finder = linkify::LinkFinder::new();
    finder.kinds(&[linkify::LinkKind::Url]);
    finder.url_must_have_scheme(true);
    finder.links(text).map(|l| Arc::from(l.as_str())).collect()
}

/// The pieces of `text` between occurrences of `separator`, in order, empty
/// pieces kept (`"a,,b"` by `","` is `a`, ``, `b`); an empty separator
/// splits into characters. At most [`MAX_ELEMENTS`] pieces, as an
/// envelope's list holds: the last piece keeps the rest of the text, so a
/// rule's instruction bound holds for a list a text became.
pub fn split(text: &str, separator: &str) -> Vec<Arc<str>> {
    if separator.is_empty() {
        let mut pieces: Vec<Arc<str>> = Vec::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if pieces.len() + 1 == MAX_ELEMENTS {
                pieces.push(Arc::from(rest));
                return pieces;
            }
            pieces.push(Arc::from(&rest[..c.len_utf8()]));
            rest = &rest[c.len_utf8()..];
        }
        return pieces;
    }
    text.splitn(MAX_ELEMENTS, separator)
        .map(Arc::from)
        .collect()
}

/// The hosts of the URLs written in a text.
pub fn url_hosts(text: &str) -> Vec<Arc<str>> {
    urls(text).iter().map(|u| url_host(u)).collect()
}

/// Fuel a scan of `text` costs beyond its one instruction: one unit per
/// byte (about what an instruction costs in time), so a long text cannot
/// ride on a short program.
pub fn scan_cost(text: &str) -> u64 {
    text.len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str, separator: &str) -> Vec<String> {
        split(text, separator)
            .iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn split_keeps_order_and_empty_pieces() {
        assert_eq!(pieces("a,,b", ","), ["a", "", "b"]);
        assert_eq!(pieces("", ","), [""]);
        assert_eq!(pieces("ana@acme.example", "@"), ["ana", "acme.example"]);
        assert_eq!(pieces("né", ""), ["n", "é"]);
        assert!(pieces("", "").is_empty());
    }

    #[test]
    fn split_stops_at_the_element_limit_with_the_rest_in_the_last_piece() {
        let text = "x,".repeat(2 * MAX_ELEMENTS);
        let got = split(&text, ",");
        assert_eq!(got.len(), MAX_ELEMENTS);
        assert_eq!(got[0].as_ref(), "x");
        assert_eq!(
            got[MAX_ELEMENTS - 1].len(),
            text.len() - 2 * (MAX_ELEMENTS - 1)
        );
        let chars = split(&"é".repeat(2 * MAX_ELEMENTS), "");
        assert_eq!(chars.len(), MAX_ELEMENTS);
        assert_eq!(chars[MAX_ELEMENTS - 1].chars().count(), MAX_ELEMENTS + 1);
    }

    #[test]
    fn email_domains() {
        assert_eq!(&*email_domain("Ana@Acme.Example"), "acme.example");
        assert_eq!(&*email_domain("a@b@evil.example"), "evil.example");
        assert_eq!(&*email_domain("no-at-sign"), "");
        assert_eq!(&*email_domain("@acme.example"), "");
        assert_eq!(&*email_domain("ana@"), "");
        assert_eq!(&*email_domain("ana@acme .example"), "");
    }

    #[test]
    fn url_hosts_of_urls() {
        assert_eq!(
            &*url_host("https://Docs.Acme.example:8443/x?y"),
            "docs.acme.example"
        );
        assert_eq!(
            &*url_host("https://user@evil.example@acme.example/"),
            "acme.example"
        );
        assert_eq!(&*url_host("/relative/path"), "");
        assert_eq!(&*url_host("mailto:ana@acme.example"), "");
        assert_eq!(&*url_host("not a url"), "");
    }

    #[test]
    fn urls_in_text() {
        let found = urls("see https://a.example/x, and http://b.example. not c.example");
        let found: Vec<&str> = found.iter().map(|u| &**u).collect();
        assert_eq!(found, ["https://a.example/x", "http://b.example"]);
        let hosts = url_hosts("pay at https://Pay.Evil.example/now");
        assert_eq!(&*hosts[0], "pay.evil.example");
        assert!(urls("no links here").is_empty());
    }

    #[test]
    fn patterns_are_limited() {
        assert!(compile_regex("^[a-z]+-[0-9]{4}$")
            .unwrap()
            .is_match("ab-2026"));
        assert!(matches!(
            compile_regex("(unclosed"),
            Err(PatternError::Invalid(_))
        ));
        assert_eq!(
            compile_regex(&"a".repeat(REGEX_MAX_LEN + 1)).unwrap_err(),
            PatternError::TooLong(REGEX_MAX_LEN + 1)
        );
        assert_eq!(
            compile_regex(r"\w{1000}{1000}").unwrap_err(),
            PatternError::TooLarge
        );
    }
}
