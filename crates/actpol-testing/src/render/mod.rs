//! A run's report for people (text), for tools (JSON lines) and for CI
//! dashboards (JUnit XML). Renderers only read the report.

mod json;
mod junit;
mod text;

pub use json::json_lines;
pub use junit::junit_xml;
pub use text::{coverage_text, text};
