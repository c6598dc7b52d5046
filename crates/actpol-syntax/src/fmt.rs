//! `actpol fmt`: the one canonical layout of `.actpol` source.
//!
//! The formatter prints the syntax tree rather than editing the text, so every
//! layout decision is a function of the tree and formatting twice changes
//! nothing. The source is read only for what the tree does not hold: the
//! comments, kept verbatim beside the code they sat next to, and the blank
//! lines with which an author groups top-level declarations.
//!
//! Printing is done in two steps. Each declaration is first laid out as
//! lines, each remembering where its first token stood in the source (its
//! anchor); comments are then woven in by comparing their offsets with those
//! anchors. Top-level declarations and the comments between them become
//! entries, and the blank lines between entries are decided last.

use std::fmt::Write as _;
use std::ops::Range;

use crate::ast::*;
use crate::error::SyntaxError;
use crate::parser::parse_file;

/// One level of indentation.
const INDENT: &str = "  ";

/// Columns a line may fill before the formatter breaks it. Only enums and
/// conditions (`when`, `records … where`, `risk … =`) are broken: they are
/// what grows long in practice, and breaking nothing else keeps the layout
/// predictable.
const MAX_WIDTH: usize = 100;

/// Parses `source` and prints it in the canonical layout.
pub fn format_source(source: &str) -> Result<String, SyntaxError> {
    let file = parse_file(source)?;
    Ok(format_file(&file, source))
}

/// Prints `file`, parsed from `source`, in the canonical layout.
///
/// `source` is read for comment placement and for the blank lines between
/// top-level declarations; without it (`""`) comments are still all printed,
/// but not always where they stood. For a tree built in code, whose
/// documentation is in [`Item::doc`] rather than in comments, pass `""`.
pub fn format_file(file: &File, source: &str) -> String {
    let entries = TopLevel { file, source }.entries();
    let blanks = blank_lines_before(&entries);
    let mut out = String::new();
    for (entry, blank) in entries.iter().zip(blanks) {
        if blank {
            out.push('\n');
        }
        for line in &entry.lines {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

// ------------------------------------------------------------- top level --

/// A top-level unit of output: a declaration with its comments woven in, or
/// a comment standing between declarations.
struct Entry {
    lines: Vec<String>,
    kind: EntryKind,
    /// The author left a blank line between the previous entry and this one.
    blank_in_source: bool,
    /// The entry's last line ends in a `///` comment that documents nothing.
    /// Such a comment must never end up right above a declaration, where the
    /// parser would take it for that declaration's documentation.
    ends_in_loose_doc: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    Item {
        multiline: bool,
    },
    Comment,
    /// Documentation of the declaration that follows.
    Doc,
}

impl Entry {
    fn is_multiline_item(&self) -> bool {
        self.kind == EntryKind::Item { multiline: true }
    }

    fn is_comment(&self) -> bool {
        matches!(self.kind, EntryKind::Comment | EntryKind::Doc)
    }

    fn is_item(&self) -> bool {
        matches!(self.kind, EntryKind::Item { .. })
    }
}

struct TopLevel<'a> {
    file: &'a File,
    source: &'a str,
}

impl TopLevel<'_> {
    /// Declarations and comments in source order. Every comment lands in
    /// exactly one entry: as a standalone comment, as documentation, or woven
    /// into the declaration it sits in or trails.
    fn entries(&self) -> Vec<Entry> {
        let comments = &self.file.comments;
        let items = &self.file.items;
        let docs: Vec<Range<usize>> = items
            .iter()
            .map(|item| doc_comments(comments, item))
            .collect();
        let mut entries = Vec::new();
        // The first comment not yet placed, and where the previous entry
        // ended in the source (for blank lines).
        let mut next = 0;
        let mut prev_end = None;
        for (k, item) in items.iter().enumerate() {
            let doc = docs[k].clone();
            let end = code_end(comments, self.source, item.span);
            for c in comments.get(next..doc.start).unwrap_or_default() {
                entries.push(self.comment_entry(c, EntryKind::Comment, prev_end));
                prev_end = Some(c.span.end);
            }
            next = next.max(doc.start);
            if doc.is_empty() {
                if let Some(text) = &item.doc {
                    let blank_in_source = self.blank_between(prev_end, item.span.start);
                    entries.push(synthesized_doc(text, blank_in_source));
                    prev_end = Some(item.span.start);
                }
            }
            for c in comments.get(next..doc.end).unwrap_or_default() {
                entries.push(self.comment_entry(c, EntryKind::Doc, prev_end));
                prev_end = Some(c.span.end);
            }
            next = next.max(doc.end);

            let first_inner = next;
            while comments.get(next).is_some_and(|c| c.span.start < end) {
                next += 1;
            }
            if let Some(c) = comments.get(next) {
                let documents_next = docs.get(k + 1).is_some_and(|d| d.contains(&next));
                if !documents_next && trails_on_same_line(self.source, end, c.span.start) {
                    next += 1;
                }
            }
            let inner = comments.get(first_inner..next).unwrap_or_default();
            let blank_in_source = self.blank_between(prev_end, item.span.start);
            let (entry, homeless) = item_entry(item, comments, inner, self.source, blank_in_source);
            entries.push(entry);
            entries.extend(homeless.into_iter().map(homeless_comment));
            let inner_end = inner.last().map_or(0, |c| c.span.end);
            prev_end = Some(end.max(inner_end));
        }
        for c in comments.get(next..).unwrap_or_default() {
            entries.push(self.comment_entry(c, EntryKind::Comment, prev_end));
            prev_end = Some(c.span.end);
        }
        entries
    }

    fn comment_entry(&self, c: &Comment, kind: EntryKind, prev_end: Option<u32>) -> Entry {
        let text = comment_text(c);
        Entry {
            ends_in_loose_doc: kind == EntryKind::Comment && is_doc_text(&text),
            lines: vec![text],
            kind,
            blank_in_source: self.blank_between(prev_end, c.span.start),
        }
    }

    /// Whether the author left a blank line between `from` and `to`.
    fn blank_between(&self, from: Option<u32>, to: u32) -> bool {
        from.and_then(|from| self.source.get(from as usize..to as usize))
            .is_some_and(|gap| gap.matches('\n').count() >= 2)
    }
}

/// A declaration laid out with the comments inside it, and the comments no
/// line of it could hold (they follow it on lines of their own).
fn item_entry(
    item: &Item,
    all_comments: &[Comment],
    inner: &[Comment],
    source: &str,
    blank_in_source: bool,
) -> (Entry, Vec<String>) {
    let mut printer = ItemPrinter {
        comments: all_comments,
        source,
        lines: Vec::new(),
    };
    printer.item(item);
    let mut lines = printer.lines;
    let homeless = weave(&mut lines, inner, source);
    let ends_in_loose_doc = lines
        .last()
        .and_then(|line| line.trailing.as_deref())
        .is_some_and(is_doc_text);
    let entry = Entry {
        kind: EntryKind::Item {
            multiline: lines.len() > 1,
        },
        lines: render_lines(&lines),
        blank_in_source,
        ends_in_loose_doc,
    };
    (entry, homeless)
}

/// A comment that sat inside a one-line declaration whose line already
/// carries a trailing comment: it follows the declaration on its own line.
fn homeless_comment(text: String) -> Entry {
    Entry {
        ends_in_loose_doc: is_doc_text(&text),
        lines: vec![text],
        kind: EntryKind::Comment,
        blank_in_source: false,
    }
}

/// `///` lines for documentation held by a tree built in code.
fn synthesized_doc(text: &str, blank_in_source: bool) -> Entry {
    let lines = text
        .split('\n')
        .map(|line| {
            let line = line.trim_end();
            if line.is_empty() {
                "///".to_string()
            } else {
                format!("/// {line}")
            }
        })
        .collect();
    Entry {
        lines,
        kind: EntryKind::Doc,
        blank_in_source,
        ends_in_loose_doc: false,
    }
}

/// For each entry, whether a blank line precedes it.
///
/// The author's blank lines are kept (collapsed to one). A declaration that
/// takes several lines is always set apart, together with the comments right
/// above it. A `///` comment that documents nothing is kept apart from a
/// declaration or documentation that follows, so that it stays undocumenting.
fn blank_lines_before(entries: &[Entry]) -> Vec<bool> {
    let mut blank: Vec<bool> = entries.iter().map(|e| e.blank_in_source).collect();
    for i in 1..entries.len() {
        let next_is_documentable = entries[i].is_item() || entries[i].kind == EntryKind::Doc;
        if entries[i - 1].ends_in_loose_doc && next_is_documentable {
            blank[i] = true;
        }
    }
    for m in 0..entries.len() {
        if !entries[m].is_multiline_item() {
            continue;
        }
        if let Some(after) = blank.get_mut(m + 1) {
            *after = true;
        }
        let mut group_start = m;
        while group_start > 0 && entries[group_start - 1].is_comment() && !blank[group_start] {
            group_start -= 1;
        }
        blank[group_start] = true;
    }
    if let Some(first) = blank.first_mut() {
        *first = false;
    }
    blank
}

/// The comments holding `item`'s documentation: the parser documents an item
/// with the run of `///` comments right above it, so a documentation of n
/// lines is the n comments before the item. Empty when the tree's comments
/// do not hold it (a tree built in code).
fn doc_comments(comments: &[Comment], item: &Item) -> Range<usize> {
    let end = comments.partition_point(|c| c.span.end <= item.span.start);
    let Some(doc) = &item.doc else {
        return end..end;
    };
    let lines = doc.split('\n').count();
    match end.checked_sub(lines) {
        Some(first) if comments[first..end].iter().all(Comment::is_doc) => first..end,
        _ => end..end,
    }
}

/// Where the code of `span` ends. The parser's span of a construct that ends
/// in an optional or repeated part (`risk r = a + b`, `deny`, `approver p`)
/// runs on over the whitespace and comments after it, up to the next token;
/// placing comments needs the end of the last token.
fn code_end(comments: &[Comment], source: &str, span: Span) -> u32 {
    let mut end = span.end;
    loop {
        let Some(text) = source.get(span.start as usize..end as usize) else {
            return end;
        };
        let code = text.trim_end_matches([' ', '\t', '\r', '\n']);
        end = span.start + code.len() as u32;
        // A comment reaching to `end` (its own trailing blanks were just
        // trimmed) ends a stretch of trivia; the code ends before it.
        let i = comments.partition_point(|c| c.span.start < end);
        match i.checked_sub(1).and_then(|i| comments.get(i)) {
            Some(c) if c.span.end >= end && c.span.start >= span.start => end = c.span.start,
            _ => return end,
        }
    }
}

/// Whether a comment at `comment_start` follows a declaration that ended at
/// `item_end` on the same line, with no code between: it then belongs to that
/// declaration's last line.
fn trails_on_same_line(source: &str, item_end: u32, comment_start: u32) -> bool {
    source
        .get(item_end as usize..comment_start as usize)
        .is_some_and(|gap| gap.chars().all(|c| matches!(c, ' ' | '\t' | '\r')))
}

// ------------------------------------------------------------------ lines --

/// One line of a declaration, before and after comments are woven in.
struct Line {
    depth: usize,
    text: String,
    /// Source offset of the line's first token. Anchors rise from line to
    /// line, so a comment's offset says which lines it sits between.
    anchor: u32,
    /// A closing `}`: comments right above it belong inside its block.
    closes_block: bool,
    /// Comments on lines of their own above this line.
    above: Vec<String>,
    trailing: Option<String>,
}

fn render_lines(lines: &[Line]) -> Vec<String> {
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let comment_depth = line.depth + usize::from(line.closes_block);
        for comment in &line.above {
            out.push(format!("{}{comment}", INDENT.repeat(comment_depth)));
        }
        let mut text = format!("{}{}", INDENT.repeat(line.depth), line.text);
        if let Some(comment) = &line.trailing {
            text.push(' ');
            text.push_str(comment);
        }
        out.push(text);
    }
    out
}

/// Places each comment of a declaration. A comment on a line of its own goes
/// above the first line that starts after it; a comment after code goes at
/// the end of the line holding that code. A line holds one trailing comment
/// (a second would be read as part of the first), so a further one moves to
/// a line of its own below. Returns the comments that found no place because
/// they come after the last line's own trailing comment.
fn weave(lines: &mut [Line], comments: &[Comment], source: &str) -> Vec<String> {
    let mut homeless = Vec::new();
    for c in comments {
        let text = comment_text(c);
        let Some(host) = lines.iter().rposition(|l| l.anchor < c.span.start) else {
            // Only a tree whose spans do not match `source` gets here.
            match lines.first_mut() {
                Some(first) => first.above.push(text),
                None => homeless.push(text),
            }
            continue;
        };
        let below = host + 1;
        if stands_on_own_line(source, c.span.start) && below < lines.len() {
            lines[below].above.push(text);
        } else if lines[host].trailing.is_none() {
            lines[host].trailing = Some(text);
        } else if below < lines.len() {
            lines[below].above.push(text);
        } else {
            homeless.push(text);
        }
    }
    homeless
}

fn stands_on_own_line(source: &str, pos: u32) -> bool {
    let Some(before) = source.get(..pos as usize) else {
        return false;
    };
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    before[line_start..]
        .chars()
        .all(|c| matches!(c, ' ' | '\t' | '\r'))
}

/// A comment as printed: verbatim, without trailing whitespace.
fn comment_text(c: &Comment) -> String {
    c.text.trim_end().to_string()
}

fn is_doc_text(text: &str) -> bool {
    text.starts_with("///") && !text.starts_with("////")
}

fn fits(depth: usize, text: &str) -> bool {
    depth * INDENT.len() + text.chars().count() <= MAX_WIDTH
}

// ----------------------------------------------------------- declarations --

/// Lays out one declaration as lines, without its comments.
struct ItemPrinter<'a> {
    /// Every comment of the file: a block holding a comment is never folded
    /// onto one line, or the comment would have nowhere to go.
    comments: &'a [Comment],
    source: &'a str,
    lines: Vec<Line>,
}

impl ItemPrinter<'_> {
    fn push(&mut self, depth: usize, anchor: u32, text: String) {
        self.lines.push(Line {
            depth,
            text,
            anchor,
            closes_block: false,
            above: Vec::new(),
            trailing: None,
        });
    }

    /// The `}` that ends `block`.
    fn close(&mut self, depth: usize, block: Span) {
        let end = code_end(self.comments, self.source, block);
        self.lines.push(Line {
            depth,
            text: "}".to_string(),
            anchor: end.saturating_sub(1),
            closes_block: true,
            above: Vec::new(),
            trailing: None,
        });
    }

    fn holds_comment(&self, span: Span) -> bool {
        let end = code_end(self.comments, self.source, span);
        let i = self
            .comments
            .partition_point(|c| c.span.start <= span.start);
        self.comments.get(i).is_some_and(|c| c.span.start < end)
    }

    /// A top-level block of `members`, each laid out by `member`.
    fn members<T>(
        &mut self,
        span: Span,
        header: String,
        members: &[T],
        member: impl Fn(&mut Self, usize, &T),
    ) {
        self.block(0, span.start, span, header, members.is_empty(), |p, d| {
            for m in members {
                member(p, d, m);
            }
        });
    }

    /// `header {`, the members one level deeper, `}`; or `header {}` when
    /// there is nothing to put inside.
    fn block(
        &mut self,
        depth: usize,
        anchor: u32,
        span: Span,
        header: String,
        is_empty: bool,
        members: impl FnOnce(&mut Self, usize),
    ) {
        if is_empty && !self.holds_comment(span) {
            self.push(depth, anchor, header + " {}");
            return;
        }
        self.push(depth, anchor, header + " {");
        members(self, depth + 1);
        self.close(depth, span);
    }

    fn item(&mut self, item: &Item) {
        let span = item.span;
        match &item.kind {
            ItemKind::Import(import) => {
                self.push(
                    0,
                    span.start,
                    format!("import {}", quote(&import.path.value)),
                );
            }
            ItemKind::Policy(policy) => {
                let header = format!("policy {}", policy.name.name);
                // Outcomes and time declarations, in the order written.
                let mut order: Vec<(u32, Result<&PolicyEntry, &TimingEntry>)> = policy
                    .entries
                    .iter()
                    .map(|e| (e.span.start, Ok(e)))
                    .chain(policy.timing.iter().map(|t| (t.span.start, Err(t))))
                    .collect();
                order.sort_by_key(|(start, _)| *start);
                self.members(span, header, &order, |p, d, (start, entry)| match entry {
                    Ok(entry) => {
                        let keyword = match entry.kind {
                            PolicyEntryKind::Default => "default",
                            PolicyEntryKind::OnError => "on_error",
                        };
                        p.outcome(d, *start, keyword, &entry.outcome);
                    }
                    Err(timing) => {
                        let text = format!("{} {}", timing.kind.keyword(), timing.duration.text);
                        p.push(d, *start, text);
                    }
                });
            }
            ItemKind::Enum(decl) => self.enum_decl(decl, span),
            ItemKind::DataClass(decl) => self.push(0, span.start, described("data_class", decl)),
            ItemKind::System(decl) => self.push(0, span.start, described("system", decl)),
            ItemKind::Context(context) => {
                self.members(span, "context".into(), &context.fields, |p, d, field| {
                    p.push(d, field.span.start, field_text(field));
                });
            }
            ItemKind::Entity(entity) => {
                let header = format!("entity {}", entity.name.name);
                self.members(span, header, &entity.members, Self::entity_member);
            }
            ItemKind::Record(record) => {
                let header = format!("record {}", record.name.name);
                self.members(span, header, &record.fields, |p, d, field| {
                    p.push(d, field.span.start, field_text(field));
                });
            }
            ItemKind::Action(action) => {
                let header = format!("action {}", action.name.name);
                self.members(span, header, &action.members, Self::action_member);
            }
            ItemKind::Agent(agent) => {
                let header = format!("agent {}", agent.name.name);
                self.members(span, header, &agent.members, Self::agent_member);
            }
            ItemKind::Approver(approver) => self.approver(approver, span),
            ItemKind::Budget(budget) => {
                let header = format!("budget {}: {}", budget.name.name, type_text(&budget.ty));
                self.members(span, header, &budget.members, Self::budget_member);
            }
            ItemKind::Risk(risk) => {
                let mut lead = format!("risk {}", risk.name.name);
                if let Some(on) = &risk.on {
                    write_on(&mut lead, on);
                }
                lead.push_str(" =");
                self.condition(0, span.start, &lead, &risk.expr);
            }
            ItemKind::Rule(rule) => self.rule(rule, span),
            ItemKind::Raise(raise) => {
                let mut one_line = format!("raise {}", raise.name.name);
                if let Some(on) = &raise.on {
                    write_on(&mut one_line, on);
                }
                one_line.push_str(" when ");
                write_expr(&mut one_line, &raise.when);
                let head = if fits(0, &format!("{one_line} {{")) {
                    vec![(0, one_line)]
                } else {
                    let mut head = vec![(0, format!("raise {}", raise.name.name))];
                    if let Some(on) = &raise.on {
                        head.extend(fill_list(1, "on", &pattern_texts(on)));
                    }
                    head.extend(condition_lines(1, "when", &raise.when));
                    head
                };
                self.head_block(span, head, raise.arms.is_empty(), |p, d| {
                    for arm in &raise.arms {
                        let head = format!("{} ->", arm.from.as_str());
                        p.outcome(d, arm.span.start, &head, &arm.outcome);
                    }
                });
            }
        }
    }

    /// On one line while it fits and holds no comment; otherwise one variant
    /// per line, each with a comma, so adding a variant touches one line.
    fn enum_decl(&mut self, decl: &EnumDecl, span: Span) {
        let header = format!("enum {}", decl.name.name);
        let one_line = if decl.variants.is_empty() {
            format!("{header} {{}}")
        } else {
            let texts: Vec<String> = decl
                .variants
                .iter()
                .map(|v| variant_text(&v.name))
                .collect();
            format!("{header} {{ {} }}", texts.join(", "))
        };
        if !self.holds_comment(span) && fits(0, &one_line) {
            self.push(0, span.start, one_line);
            return;
        }
        self.push(0, span.start, header + " {");
        for variant in &decl.variants {
            self.push(
                1,
                variant.span.start,
                format!("{},", variant_text(&variant.name)),
            );
        }
        self.close(0, span);
    }

    /// `approver name` alone when it has no members: the braces are optional
    /// and an empty pair says nothing.
    fn approver(&mut self, approver: &ApproverDecl, span: Span) {
        let header = format!("approver {}", approver.name.name);
        if approver.members.is_empty() && !self.holds_comment(span) {
            self.push(0, span.start, header);
            return;
        }
        self.block(
            0,
            span.start,
            span,
            header,
            approver.members.is_empty(),
            |p, d| {
                for member in &approver.members {
                    let (keyword, text, span) = match member {
                        ApproverMember::Title(text, span) => ("title", text, span),
                        ApproverMember::Contact(text, span) => ("contact", text, span),
                    };
                    p.push(d, span.start, format!("{keyword} {}", quote(&text.value)));
                }
            },
        );
    }

    fn rule(&mut self, rule: &RuleDecl, span: Span) {
        let mut one_line = format!("rule {}", rule.name.name);
        write_on(&mut one_line, &rule.on);
        if let Some(agents) = &rule.agents {
            write!(one_line, " for agent {}", names(&agents.names)).ok();
        }
        if let Some(workflows) = &rule.workflows {
            write!(one_line, " for workflow {}", names(&workflows.names)).ok();
        }
        let head = if fits(0, &format!("{one_line} {{")) {
            vec![(0, one_line)]
        } else {
            // Too long: the name, then each clause on its own line.
            let mut head = vec![(0, format!("rule {}", rule.name.name))];
            head.extend(fill_list(1, "on", &pattern_texts(&rule.on)));
            if let Some(agents) = &rule.agents {
                head.extend(fill_list(1, "for agent", &ident_texts(&agents.names)));
            }
            if let Some(workflows) = &rule.workflows {
                head.extend(fill_list(1, "for workflow", &ident_texts(&workflows.names)));
            }
            head
        };
        // A rule always holds an outcome, so its block is never empty.
        self.head_block(span, head, false, |p, d| {
            if let Some(condition) = &rule.when {
                p.condition(d, condition.span.start, "when", condition);
            }
            p.outcome(d, rule.outcome.span.start, "", &rule.outcome);
            if let Some(overrides) = &rule.overrides {
                let text = format!("overrides {}", names(&overrides.names));
                p.push(d, overrides.span.start, text);
            }
            for consume in &rule.consumes {
                let mut text = format!("consume {} by ", consume.budget.name);
                write_expr(&mut text, &consume.amount);
                p.push(d, consume.span.start, text);
            }
        });
    }

    /// A top-level block whose head spans one or more lines: `{` ends the
    /// last, the members sit one level in, the `}` at the left margin.
    fn head_block(
        &mut self,
        span: Span,
        head: Vec<(usize, String)>,
        is_empty: bool,
        members: impl FnOnce(&mut Self, usize),
    ) {
        let folded = is_empty && !self.holds_comment(span);
        let count = head.len();
        for (i, (depth, text)) in head.into_iter().enumerate() {
            let text = match (i + 1 == count, folded) {
                (true, true) => text + " {}",
                (true, false) => text + " {",
                _ => text,
            };
            self.push(depth, span.start, text);
        }
        if !folded {
            members(self, 1);
            self.close(0, span);
        }
    }

    /// `lead condition` (`when …`, `records X where …`, `risk r = …`), laid
    /// out to the width by [`layout`].
    fn condition(&mut self, depth: usize, anchor: u32, lead: &str, condition: &Expr) {
        let mut pieces = layout(depth, &format!("{lead} "), condition, "");
        let overflows = |pieces: &[Piece]| pieces.first().is_some_and(|p| !fits(p.depth, &p.text));
        let below = layout(depth + 1, "", condition, "");
        if overflows(&pieces) && !overflows(&below) {
            // The lead leaves too little room: it gets a line of its own.
            self.push(depth, anchor, lead.to_string());
            pieces = below;
        } else if let Some(first) = pieces.first_mut() {
            first.anchor = anchor;
        }
        for piece in pieces {
            self.push(piece.depth, piece.anchor, piece.text);
        }
    }

    /// `lead outcome` on the line anchored at `anchor`; a `constrain`
    /// outcome opens a block of constraints.
    fn outcome(&mut self, depth: usize, anchor: u32, lead: &str, outcome: &Outcome) {
        let mut head = lead.to_string();
        if !head.is_empty() {
            head.push(' ');
        }
        match &outcome.kind {
            OutcomeKind::Allow => head.push_str("allow"),
            OutcomeKind::Deny => head.push_str("deny"),
            OutcomeKind::Escalate(to) => write!(head, "escalate to {}", to.name).unwrap_or(()),
            OutcomeKind::Constrain(_) => head.push_str("constrain"),
        }
        if let Some(reason) = &outcome.reason {
            head.push(' ');
            head.push_str(&quote(&reason.value));
        }
        let OutcomeKind::Constrain(constraints) = &outcome.kind else {
            self.push(depth, anchor, head);
            return;
        };
        self.block(
            depth,
            anchor,
            outcome.span,
            head,
            constraints.is_empty(),
            |p, d| {
                for constraint in constraints {
                    p.constraint(d, constraint);
                }
            },
        );
    }

    fn constraint(&mut self, depth: usize, constraint: &Constraint) {
        match constraint {
            Constraint::Require(what, span) => {
                self.push(depth, span.start, format!("require {}", what.as_str()));
            }
            Constraint::Param {
                param,
                op,
                value,
                span,
            } => {
                let mut text = format!("params.{} {} ", param.name, op.as_str());
                write_expr(&mut text, value);
                self.push(depth, span.start, text);
            }
        }
    }

    fn fields(&mut self, depth: usize, fields: &[Field]) {
        for field in fields {
            self.push(depth, field.span.start, field_text(field));
        }
    }

    fn entity_member(&mut self, depth: usize, member: &EntityMember) {
        match member {
            EntityMember::Field(field) => self.push(depth, field.span.start, field_text(field)),
            EntityMember::Data(list) => {
                self.push(
                    depth,
                    list.span.start,
                    format!("data {}", names(&list.names)),
                );
            }
            EntityMember::System(name, span) => {
                self.push(depth, span.start, format!("system {}", name.name));
            }
        }
    }

    fn action_member(&mut self, depth: usize, member: &ActionMember) {
        match member {
            ActionMember::System(name, span) => {
                self.push(depth, span.start, format!("system {}", name.name));
            }
            ActionMember::Object(name, span) => {
                self.push(depth, span.start, format!("object {}", name.name));
            }
            ActionMember::Params(fields, span) => {
                self.block(
                    depth,
                    span.start,
                    *span,
                    "params".into(),
                    fields.is_empty(),
                    |p, d| {
                        p.fields(d, fields);
                    },
                );
            }
            ActionMember::Reversibility(reversibility) => {
                let text = match &reversibility.kind {
                    ReversibilityKind::Reversible => "reversible".to_string(),
                    ReversibilityKind::Irreversible => "irreversible".to_string(),
                    ReversibilityKind::Compensable { by, within } => match within {
                        Some(within) => {
                            format!("compensable by {} within {}", by.name, within.text)
                        }
                        None => format!("compensable by {}", by.name),
                    },
                };
                self.push(depth, reversibility.span.start, text);
            }
            ActionMember::Data(list) => {
                self.push(
                    depth,
                    list.span.start,
                    format!("data {}", names(&list.names)),
                );
            }
            ActionMember::Reads(list) => {
                self.push(
                    depth,
                    list.span.start,
                    format!("reads {}", names(&list.names)),
                );
            }
            ActionMember::Sends(list) => {
                self.push(
                    depth,
                    list.span.start,
                    format!("sends {}", names(&list.names)),
                );
            }
            ActionMember::Triggers(triggers, span) => {
                let list: Vec<String> = triggers
                    .iter()
                    .map(|trigger| match trigger {
                        Trigger::Action(name) => name.name.clone(),
                        Trigger::System(name) => format!("system {}", name.name),
                    })
                    .collect();
                self.push(depth, span.start, format!("triggers {}", list.join(", ")));
            }
        }
    }

    fn agent_member(&mut self, depth: usize, member: &AgentMember) {
        match member {
            AgentMember::Owner(owner, span) => {
                self.push(depth, span.start, format!("owner {}", quote(&owner.value)));
            }
            AgentMember::Workflow(name, span) => {
                self.push(depth, span.start, format!("workflow {}", name.name));
            }
            AgentMember::Scope(items, span) => {
                self.block(
                    depth,
                    span.start,
                    *span,
                    "scope".into(),
                    items.is_empty(),
                    |p, d| {
                        for item in items {
                            p.scope_item(d, item);
                        }
                    },
                );
            }
        }
    }

    fn scope_item(&mut self, depth: usize, item: &ScopeItem) {
        match item {
            ScopeItem::Systems(list) => {
                self.push(
                    depth,
                    list.span.start,
                    format!("systems {}", names(&list.names)),
                );
            }
            ScopeItem::Objects(list) => {
                self.push(
                    depth,
                    list.span.start,
                    format!("objects {}", names(&list.names)),
                );
            }
            ScopeItem::Records {
                entity,
                predicate,
                span,
            } => {
                let lead = format!("records {} where", entity.name);
                self.condition(depth, span.start, &lead, predicate);
            }
        }
    }

    fn budget_member(&mut self, depth: usize, member: &BudgetMember) {
        match member {
            BudgetMember::Limit(limit, span) => {
                let mut text = "limit ".to_string();
                write_expr(&mut text, limit);
                self.push(depth, span.start, text);
            }
            BudgetMember::Window(window, span) => {
                self.push(depth, span.start, format!("window {}", window_text(window)));
            }
            BudgetMember::Per(key, span) => {
                self.push(depth, span.start, format!("per {}", key.key.as_str()));
            }
            BudgetMember::OnExhausted(outcome, span) => {
                self.outcome(depth, span.start, "on_exhausted", outcome);
            }
        }
    }
}

/// `data_class pii "…"`, `system crm "…"`.
fn described(keyword: &str, decl: &DescribedDecl) -> String {
    match &decl.description {
        Some(description) => format!("{keyword} {} {}", decl.name.name, quote(&description.value)),
        None => format!("{keyword} {}", decl.name.name),
    }
}

fn field_text(field: &Field) -> String {
    let mark = if field.optional { "?" } else { "" };
    let bounds = match &field.bounds {
        None => String::new(),
        Some(b) => {
            let end = |lit: &Option<BoundLit>| lit.as_ref().map(BoundLit::text).unwrap_or_default();
            format!(" in {}..{}", end(&b.least), end(&b.most))
        }
    };
    format!(
        "{}{mark}: {}{bounds}",
        field.name.name,
        type_text(&field.ty)
    )
}

fn type_text(ty: &TypeExpr) -> String {
    // Nested `Set<…>` and `List<…>` are unwound in a loop: the parser
    // bounds their depth only by the stack it has, and printing should not
    // need more.
    let mut out = String::new();
    let mut depth = 0;
    let mut inner = ty;
    loop {
        inner = match &inner.kind {
            TypeExprKind::Set(element) => {
                out.push_str("Set<");
                element
            }
            TypeExprKind::List(element) => {
                out.push_str("List<");
                element
            }
            _ => break,
        };
        depth += 1;
    }
    match &inner.kind {
        TypeExprKind::Named(name) => out.push_str(&name.name),
        TypeExprKind::Money(currency) => write!(out, "Money<{}>", currency.name).unwrap_or(()),
        TypeExprKind::Zoned(base, zone) => {
            write!(out, "{}<{}>", base.name, zone.text()).unwrap_or(())
        }
        // The loop above unwound every `Set` and `List`.
        TypeExprKind::Set(_) | TypeExprKind::List(_) => {}
    }
    out.push_str(&">".repeat(depth));
    out
}

/// `lead condition` as lines (see [`layout`]).
fn condition_lines(depth: usize, lead: &str, condition: &Expr) -> Vec<(usize, String)> {
    layout(depth, &format!("{lead} "), condition, "")
        .into_iter()
        .map(|p| (p.depth, p.text))
        .collect()
}

/// One line of a laid-out expression, anchored at the code it starts with
/// (so comments find their place).
struct Piece {
    depth: usize,
    text: String,
    anchor: u32,
}

/// `prefix expr suffix` on one line while it fits; otherwise broken at the
/// loosest operator chain (`or`, then `and`, comparisons, `+ -`, `* / %`),
/// each further operand on its own line one level deeper and led by its
/// operator, or inside a list or parentheses, one element per line. What
/// still cannot fit (one long name) stays on its line.
fn layout(depth: usize, prefix: &str, expr: &Expr, suffix: &str) -> Vec<Piece> {
    let one_line = format!("{prefix}{}{suffix}", expr_text(expr));
    let single = |text: String| {
        vec![Piece {
            depth,
            text,
            anchor: expr.span.start,
        }]
    };
    if fits(depth, &one_line) {
        return single(one_line);
    }
    match &expr.kind {
        ExprKind::Binary(op, ..) => {
            let (first, rest) = chain_operands(expr, op.precedence());
            let mut pieces = layout(depth, prefix, first, "");
            let count = rest.len();
            for (i, (op, operand)) in rest.into_iter().enumerate() {
                let tail = if i + 1 == count { suffix } else { "" };
                pieces.extend(layout(
                    depth + 1,
                    &format!("{} ", op.as_str()),
                    operand,
                    tail,
                ));
            }
            pieces
        }
        ExprKind::Set(elements) if !elements.is_empty() => {
            let mut pieces = vec![Piece {
                depth,
                text: format!("{prefix}["),
                anchor: expr.span.start,
            }];
            for element in elements {
                pieces.extend(layout(depth + 1, "", element, ","));
            }
            pieces.push(Piece {
                depth,
                text: format!("]{suffix}"),
                anchor: expr.span.end.saturating_sub(1),
            });
            pieces
        }
        ExprKind::Paren(inner) => {
            layout(depth, &format!("{prefix}("), inner, &format!("){suffix}"))
        }
        _ => single(one_line),
    }
}

/// The operands of the chain of operators of one precedence at the top of
/// `expr` (`a + b - c` gives `a`, `+ b`, `- c`), walked with an explicit
/// stack rather than recursion.
fn chain_operands(expr: &Expr, precedence: u8) -> (&Expr, Vec<(BinaryOp, &Expr)>) {
    fn split(node: &Expr, precedence: u8) -> Option<(BinaryOp, &Expr, &Expr)> {
        match &node.kind {
            ExprKind::Binary(op, left, right) if op.precedence() == precedence => {
                Some((*op, left, right))
            }
            _ => None,
        }
    }
    let mut operands: Vec<(Option<BinaryOp>, &Expr)> = Vec::new();
    let mut pending: Vec<(Option<BinaryOp>, &Expr)> = vec![(None, expr)];
    while let Some((before, node)) = pending.pop() {
        match split(node, precedence) {
            Some((op, left, right)) => {
                pending.push((Some(op), right));
                pending.push((before, left));
            }
            None => operands.push((before, node)),
        }
    }
    let mut operands = operands.into_iter();
    let first = operands.next().map_or(expr, |(_, e)| e);
    let rest = operands
        .filter_map(|(op, e)| op.map(|op| (op, e)))
        .collect();
    (first, rest)
}

/// `lead a, b, c` filled to the width, continuing one level deeper; the
/// last line keeps room for a ` {` after it.
fn fill_list(depth: usize, lead: &str, items: &[String]) -> Vec<(usize, String)> {
    let mut lines: Vec<(usize, String)> = Vec::new();
    let mut line = lead.to_string();
    let mut line_depth = depth;
    for (i, item) in items.iter().enumerate() {
        let sep = if i == 0 { " " } else { ", " };
        let room = if i + 1 == items.len() { " {" } else { "," };
        if i > 0 && !fits(line_depth, &format!("{line}{sep}{item}{room}")) {
            line.push(',');
            lines.push((line_depth, line));
            line = item.clone();
            line_depth = depth + 1;
            continue;
        }
        line.push_str(sep);
        line.push_str(item);
    }
    lines.push((line_depth, line));
    lines
}

fn pattern_texts(patterns: &[ActionPattern]) -> Vec<String> {
    patterns.iter().map(ToString::to_string).collect()
}

fn ident_texts(list: &[Ident]) -> Vec<String> {
    list.iter().map(|n| n.name.clone()).collect()
}

fn names(list: &[Ident]) -> String {
    let names: Vec<&str> = list.iter().map(|n| n.name.as_str()).collect();
    names.join(", ")
}

/// ` on a.b, c.*`
fn write_on(out: &mut String, patterns: &[ActionPattern]) {
    out.push_str(" on ");
    for (i, pattern) in patterns.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write!(out, "{pattern}").unwrap_or(());
    }
}

fn window_text(window: &WindowSpan) -> &str {
    match window {
        WindowSpan::Duration(duration) => &duration.text,
        WindowSpan::Plan(_) => "plan",
    }
}

// ------------------------------------------------------------ expressions --

fn expr_text(expr: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, expr);
    out
}

/// Writes `expr` on one line, parentheses exactly where the tree has them.
///
/// Chains of operators and of accessors are written in loops rather than by
/// recursion: the parser bounds nesting, but not how long a chain such as
/// `a + b + c + …` or `x.y.z…` grows, and a chain is a tree as deep as it is
/// long.
fn write_expr(out: &mut String, expr: &Expr) {
    match &expr.kind {
        ExprKind::Binary(..) => write_operator_chain(out, expr),
        ExprKind::Field(..) | ExprKind::Method(..) => write_accessor_chain(out, expr),
        ExprKind::Unary(..) => {
            let mut operand = expr;
            while let ExprKind::Unary(op, inner) = &operand.kind {
                match op {
                    UnaryOp::Not => out.push_str("not "),
                    // `- -x`, not `--x`, which reads as a decrement.
                    UnaryOp::Neg if out.ends_with('-') => out.push_str(" -"),
                    UnaryOp::Neg => out.push('-'),
                }
                operand = inner;
            }
            write_expr(out, operand);
        }
        ExprKind::Lit(literal) => write_literal(out, literal),
        ExprKind::Name(name) => out.push_str(&name.name),
        ExprKind::Call(name, args) => {
            out.push_str(&name.name);
            write_list(out, "(", args, ")");
        }
        ExprKind::Window(call) => {
            write!(
                out,
                "{}({} over {}",
                call.func.as_str(),
                call.target.name,
                window_text(&call.over)
            )
            .unwrap_or(());
            if let Some(key) = &call.by {
                write!(out, " by {}", key.key.as_str()).unwrap_or(());
            }
            out.push(')');
        }
        ExprKind::Has(inner) => {
            out.push_str("has ");
            write_expr(out, inner);
        }
        ExprKind::If(condition, then, otherwise) => {
            out.push_str("if ");
            write_expr(out, condition);
            out.push_str(" then ");
            write_expr(out, then);
            out.push_str(" else ");
            write_expr(out, otherwise);
        }
        ExprKind::Set(elements) => write_list(out, "[", elements, "]"),
        ExprKind::Paren(inner) => {
            out.push('(');
            write_expr(out, inner);
            out.push(')');
        }
    }
}

/// `a + b * c - d`: binary operators with one space on each side.
fn write_operator_chain(out: &mut String, expr: &Expr) {
    // Operators are left-associative, so a chain leans left: walk down the
    // left operands, then write back up.
    let mut rights = Vec::new();
    let mut leftmost = expr;
    while let ExprKind::Binary(op, left, right) = &leftmost.kind {
        rights.push((*op, &**right));
        leftmost = left;
    }
    write_expr(out, leftmost);
    for (op, right) in rights.into_iter().rev() {
        out.push(' ');
        out.push_str(op.as_str());
        out.push(' ');
        write_expr(out, right);
    }
}

/// `base.field.method(args)`.
fn write_accessor_chain(out: &mut String, expr: &Expr) {
    let mut accessors = Vec::new();
    let mut base = expr;
    loop {
        match &base.kind {
            ExprKind::Field(inner, name) => {
                accessors.push((name, None));
                base = inner;
            }
            ExprKind::Method(inner, name, args) => {
                accessors.push((name, Some(args)));
                base = inner;
            }
            _ => break,
        }
    }
    write_expr(out, base);
    for (name, args) in accessors.into_iter().rev() {
        out.push('.');
        out.push_str(&name.name);
        if let Some(args) = args {
            write_list(out, "(", args, ")");
        }
    }
}

fn write_list(out: &mut String, open: &str, elements: &[Expr], close: &str) {
    out.push_str(open);
    for (i, element) in elements.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_expr(out, element);
    }
    out.push_str(close);
}

// --------------------------------------------------------------- literals --

fn write_literal(out: &mut String, literal: &Literal) {
    match literal {
        Literal::Int(text) | Literal::Decimal(text) | Literal::TimeOfDay(text) => {
            out.push_str(text);
        }
        Literal::Money { amount, currency } => write!(out, "{amount} {currency}").unwrap_or(()),
        Literal::Duration(duration) => out.push_str(&duration.text),
        Literal::String(value) => out.push_str(&quote(value)),
        Literal::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
    }
}

/// `value` as a string literal with canonical escapes.
/// An enum variant as written: bare when it reads as a name, else a string.
fn variant_text(name: &str) -> String {
    if crate::is_plain_name(name) {
        name.to_string()
    } else {
        quote(name)
    }
}

fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if must_escape(c) => write!(out, "\\u{{{:X}}}", u32::from(c)).unwrap_or(()),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters written as `\u{…}`: control characters, and the invisible
/// characters that reorder or break a line of text. A reason or owner that
/// holds one would read differently in review from what it says.
fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{FEFF}'
        )
}
