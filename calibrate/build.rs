//! Builds the ACL/DCMI test doubles (tests/acl_test_double.c, tests/dcmi_test_double.c) as
//! shared libraries into OUT_DIR, in a full and an "old release" variant that lacks newer
//! symbols. The tests load them in place of libascendcl.so / libdcmi.so. A failure here only
//! warns, so the library still builds where no C compiler exists; the tests then say why.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=tests/acl_test_double.c");
    println!("cargo:rerun-if-changed=tests/dcmi_test_double.c");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let compiler = cc::Build::new()
        .cargo_metadata(false)
        .warnings(false)
        .get_compiler();
    let builds = [
        ("acl_test_double.c", "libacl_double_full.so", false),
        ("acl_test_double.c", "libacl_double_old.so", true),
        ("dcmi_test_double.c", "libdcmi_double_full.so", false),
        ("dcmi_test_double.c", "libdcmi_double_old.so", true),
    ];
    for (src, lib, old) in builds {
        let dst = out.join(lib);
        let mut cmd: Command = compiler.to_command();
        cmd.args(["-shared", "-fPIC", "-O1", "-o"])
            .arg(&dst)
            .arg(Path::new("tests").join(src));
        if old {
            cmd.arg("-DFLEXSIM_DOUBLE_OLD_RELEASE");
        }
        match cmd.status() {
            Ok(s) if s.success() => {}
            other => println!("cargo:warning=test double {lib} not built: {other:?}"),
        }
    }
    println!("cargo:rustc-env=FLEXSIM_TEST_DOUBLE_DIR={}", out.display());
}
