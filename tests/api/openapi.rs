/// The committed document must be what the code produces.
#[test]
fn committed_openapi_matches_the_code() {
    let generated = skillpath::api::openapi::spec_json().unwrap();
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(skillpath::api::openapi::SPEC_PATH);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date with the code; regenerate it with `cargo run -- openapi` and commit it"
    );
}
