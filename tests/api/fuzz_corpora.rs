//! The fuzz targets' corpora (`fuzz/corpus/<target>/`, seeds plus what
//! `cargo fuzz` found worth keeping) run through the same functions on
//! stable: none may panic.

use std::path::PathBuf;

use nextke_integrations::fuzzing;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join("corpus")
        .join(target);
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("entry").path();
            let bytes = std::fs::read(&path).expect("read");
            (path, bytes)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} has no inputs", dir.display());
    files
}

fn run(target: &str, body: fn(&[u8])) {
    for (path, bytes) in corpus(target) {
        let outcome = std::panic::catch_unwind(|| body(&bytes));
        assert!(outcome.is_ok(), "{} panicked on {}", target, path.display());
    }
}

#[test]
fn greenhouse_webhook_corpus() {
    run("greenhouse_webhook", fuzzing::greenhouse_webhook);
}

#[test]
fn lever_webhook_corpus() {
    run("lever_webhook", fuzzing::lever_webhook);
}

#[test]
fn job_mapping_corpus() {
    run("job_mapping", fuzzing::job_mapping);
}
