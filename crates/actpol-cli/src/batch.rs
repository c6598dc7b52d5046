//! `eval --batch`: envelopes read one line at a time as they arrive, and a
//! decision written for every line, in order, each tagged with its line
//! number and the envelope's id, so output line N answers input line N.
//!
//! A line is never held past the envelope limit: the rest of a longer line
//! is counted and dropped, and its decision is the refusal of an envelope
//! too large. A blank line, or one that is not JSON or not UTF-8, is
//! decided like any other (the policy's `on_error`, with the error).

use std::io::BufRead;

use serde::Deserialize;

/// One line of input: its bytes, or how long it was when past the limit.
#[derive(Debug)]
pub enum Line {
    Envelope(Vec<u8>),
    TooLarge(usize),
}

/// The lines of a reader, each at most `max` bytes kept.
#[derive(Debug)]
pub struct Lines<R> {
    reader: R,
    max: usize,
    number: usize,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R, max: usize) -> Self {
        Lines {
            reader,
            max,
            number: 0,
        }
    }

    /// The next line and its number (from 1), or `None` at the end. A last
    /// line without its newline counts; nothing after a final newline does.
    pub fn next_line(&mut self) -> std::io::Result<Option<(usize, Line)>> {
        let mut kept = Vec::new();
        let mut len = 0usize;
        let mut ended = false;
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                break;
            }
            let (part, newline) = match memchr::memchr(b'\n', available) {
                Some(at) => (&available[..at], true),
                None => (available, false),
            };
            let room = (self.max + 1).saturating_sub(kept.len());
            kept.extend_from_slice(&part[..part.len().min(room)]);
            len += part.len();
            let used = part.len() + usize::from(newline);
            self.reader.consume(used);
            if newline {
                ended = true;
                break;
            }
        }
        if !ended && len == 0 {
            return Ok(None);
        }
        self.number += 1;
        let line = if len > self.max {
            Line::TooLarge(len)
        } else {
            Line::Envelope(kept)
        };
        Ok(Some((self.number, line)))
    }
}

/// The envelope's `id`, if the line reads as JSON with a string `id`.
pub fn envelope_id(bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct IdOnly {
        #[serde(default)]
        id: Option<String>,
    }
    serde_json::from_slice::<IdOnly>(bytes).ok()?.id
}

/// A decision's compact JSON object with `line` and `envelope_id` first.
pub fn tagged(decision_json: &str, line: usize, id: Option<&str>) -> String {
    let id = serde_json::to_string(&id).unwrap_or_else(|_| "null".to_string());
    let rest = decision_json.strip_prefix('{').unwrap_or(decision_json);
    let sep = if rest.trim_start().starts_with('}') {
        ""
    } else {
        ","
    };
    format!("{{\"line\":{line},\"envelope_id\":{id}{sep}{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], max: usize) -> Vec<(usize, String)> {
        let mut lines = Lines::new(input, max);
        let mut out = Vec::new();
        while let Some((n, line)) = lines.next_line().unwrap() {
            out.push((
                n,
                match line {
                    Line::Envelope(b) => String::from_utf8_lossy(&b).into_owned(),
                    Line::TooLarge(len) => format!("<{len}>"),
                },
            ));
        }
        out
    }

    #[test]
    fn every_line_counts_blank_ones_too_and_long_ones_are_measured() {
        let got = all(b"a\n\n  \nbbbbbb\nc", 4);
        let want = [(1, "a"), (2, ""), (3, "  "), (4, "<6>"), (5, "c")];
        let want: Vec<(usize, String)> = want.iter().map(|(n, s)| (*n, s.to_string())).collect();
        assert_eq!(got, want);
        assert_eq!(all(b"a\n", 4).len(), 1);
        assert!(all(b"", 4).is_empty());
    }

    #[test]
    fn a_line_longer_than_the_buffer_is_read_whole() {
        let long = vec![b'x'; 100_000];
        let mut input = long.clone();
        input.push(b'\n');
        let reader = std::io::BufReader::with_capacity(16, &input[..]);
        let mut lines = Lines::new(reader, 200_000);
        match lines.next_line().unwrap() {
            Some((1, Line::Envelope(b))) => assert_eq!(b, long),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn decisions_are_tagged_with_line_and_id() {
        assert_eq!(
            tagged(r#"{"decision":"deny"}"#, 3, Some("req-\"1")),
            r#"{"line":3,"envelope_id":"req-\"1","decision":"deny"}"#
        );
        assert_eq!(tagged("{}", 1, None), r#"{"line":1,"envelope_id":null}"#);
        assert_eq!(
            envelope_id(br#"{"id":"r-1","x":[1]}"#).as_deref(),
            Some("r-1")
        );
        assert_eq!(envelope_id(b"{\"id\":\"r\xff\"}"), None);
        assert_eq!(envelope_id(b""), None);
    }
}
