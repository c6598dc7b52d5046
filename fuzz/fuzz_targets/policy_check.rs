//! Policy text → check, and compile what checks clean.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let report = actpol::check_sources([("main.actpol", text)]);
    let _ = report.render_text(100);
    let _ = report.render_json();
    if !report.has_errors() {
        let _ = actpol::compile_sources([("main.actpol", text)]);
    }
});
