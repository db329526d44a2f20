//! The AFL++ harness: `afl TARGET`, one of the names in `flexsim_fuzz::Target::ALL`
//! (see fuzz/README.md for the commands).

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    let target = flexsim_fuzz::Target::from_name(&name).unwrap_or_else(|| {
        let names: Vec<&str> = flexsim_fuzz::Target::ALL.iter().map(|t| t.name()).collect();
        eprintln!("usage: afl TARGET  (one of: {})", names.join(", "));
        std::process::exit(2);
    });
    afl::fuzz!(|data: &[u8]| {
        target.run(data);
    });
}
