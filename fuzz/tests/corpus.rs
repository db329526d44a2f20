//! Every fuzz target over its corpus plus deterministic mutants, without AFL: what CI runs.

use flexsim_fuzz::{replay, Target, Verdict};

#[test]
fn every_corpus_file_is_accepted() {
    // The seeds are real inputs: each reader must accept its own.
    for t in Target::ALL {
        for (path, data) in flexsim_fuzz::corpus(t) {
            assert_eq!(t.run(&data), Verdict::Accepted, "{}", path.display());
        }
    }
}

#[test]
fn mutants_of_the_corpus_never_panic() {
    let mutations = if cfg!(debug_assertions) { 300 } else { 100 };
    let mut total = 0;
    for t in Target::ALL {
        let s = replay(t, mutations);
        eprintln!(
            "{}: {} execs, {} accepted, {:.2} s",
            t.name(),
            s.execs,
            s.accepted,
            s.seconds
        );
        assert!(
            s.crashes.is_empty(),
            "{}: crashes saved: {:?}",
            t.name(),
            s.crashes
        );
        assert!(s.accepted > 0 && s.refused > 0, "{}: {s:?}", t.name());
        total += s.execs;
    }
    assert!(total > 0);
}
