fn main() {
    let path = std::env::args().nth(1).unwrap();
    let src = std::fs::read_to_string(path).unwrap();
    match actpol_syntax::parse_file(&src) {
        Ok(f) => println!("{f:#?}"),
        Err(e) => println!("{:?}", miette::Report::new(e).with_source_code(src)),
    }
}
