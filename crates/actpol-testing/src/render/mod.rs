//! A run's report for people (text), for tools (JSON lines) and for CI
//! dashboards (JUnit XML for results, lcov for coverage). Renderers only
//! read the report.

mod json;
mod junit;
mod lcov;
mod text;

pub use json::json_lines;
pub use junit::junit_xml;
pub use lcov::lcov;
pub use text::{coverage_text, mutation_text, text};
