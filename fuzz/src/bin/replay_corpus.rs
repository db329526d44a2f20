//! Replays every corpus file, and deterministic mutants of each, through the fuzz targets
//! without AFL: `replay-corpus [--mutations N] [TARGET ...]` (default 1000 mutants a file,
//! every target). Prints one row per target; exits 1 if any input panicked (saved under
//! fuzz/crashes/).

use flexsim_fuzz::{replay, Target};

fn main() {
    let mut mutations = 1000;
    let mut targets = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--mutations" => {
                mutations = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--mutations N");
            }
            name => targets.push(Target::from_name(name).unwrap_or_else(|| {
                eprintln!("unknown target {name}");
                std::process::exit(2)
            })),
        }
    }
    if targets.is_empty() {
        targets = Target::ALL.to_vec();
    }
    println!(
        "{:<13} {:>5} {:>9} {:>9} {:>9} {:>8} {:>7} {:>8}",
        "target", "files", "execs", "accepted", "refused", "skipped", "crashes", "seconds"
    );
    let mut crashed = false;
    let (mut execs, mut secs) = (0, 0.0);
    for t in targets {
        // A panic is caught and counted; keep the default hook's message for the log.
        let s = replay(t, mutations);
        println!(
            "{:<13} {:>5} {:>9} {:>9} {:>9} {:>8} {:>7} {:>8.2}",
            t.name(),
            s.files,
            s.execs,
            s.accepted,
            s.refused,
            s.skipped,
            s.crashes.len(),
            s.seconds
        );
        for c in &s.crashes {
            println!("  crash saved: {}", c.display());
        }
        crashed |= !s.crashes.is_empty();
        execs += s.execs;
        secs += s.seconds;
    }
    println!("total: {execs} executions in {secs:.1} s");
    if crashed {
        std::process::exit(1);
    }
}
