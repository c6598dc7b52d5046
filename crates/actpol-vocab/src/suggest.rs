//! "Did you mean" suggestions by edit distance.

/// The candidate closest to `word`, if one is close enough to be a likely
/// misspelling: at most a third of the word's length away (and at least 1).
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `; did you mean `x`?` to end a message with, or nothing when no
/// candidate is close (see [`did_you_mean`]).
pub fn did_you_mean_clause<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    did_you_mean(word, candidates).map_or(String::new(), |best| format!("; did you mean `{best}`?"))
}

/// Optimal string alignment distance: insertions, deletions, substitutions
/// and swaps of neighbours each cost 1.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_nearest_name() {
        let names = ["recipients", "template", "discount"];
        assert_eq!(did_you_mean("recipents", names), Some("recipients"));
        assert_eq!(did_you_mean("tempalte", names), Some("template"));
        assert_eq!(did_you_mean("zzz", names), None);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
