//! Acceptance: without the vendor libraries, `run` fails with an error naming the library and
//! what installs it, mapped to exit code 2, and never panics.

use std::path::PathBuf;

use flexsim_calibrate::{exit_code, run, BackendKind, CalibrateArgs, CalibrateError};

fn out_in_tmp() -> PathBuf {
    std::env::temp_dir().join(format!("flexsim-missing-{}.toml", std::process::id()))
}

fn loadable(names: &[&str]) -> bool {
    // SAFETY: only probes whether the vendor library exists on this machine.
    names
        .iter()
        .any(|n| unsafe { libloading::Library::new(n) }.is_ok())
}

#[test]
fn nvml_missing_library_is_exit_code_2_and_names_the_driver() {
    let mut args = CalibrateArgs::new(BackendKind::Nvml);
    args.nvml_lib = Some("/nonexistent/libnvidia-ml.so.1".into());
    args.out = Some(out_in_tmp());
    let err = run(&args).unwrap_err();
    assert!(
        matches!(err, CalibrateError::MissingLibrary { .. }),
        "{err:?}"
    );
    assert_eq!(exit_code(&err), 2);
    let msg = err.to_string();
    assert!(msg.contains("libnvidia-ml.so.1"), "{msg}");
    assert!(msg.contains("NVIDIA driver"), "{msg}");
    assert!(!args.out.as_ref().unwrap().exists());
}

#[test]
fn nvml_default_search_on_a_driverless_machine() {
    if loadable(&["libnvidia-ml.so.1"]) {
        eprintln!("skipped: libnvidia-ml.so.1 is installed here");
        return;
    }
    let mut args = CalibrateArgs::new(BackendKind::Nvml);
    args.out = Some(out_in_tmp());
    let err = run(&args).unwrap_err();
    assert_eq!(exit_code(&err), 2, "{err}");
    assert!(err.to_string().contains("libnvidia-ml.so.1"), "{err}");
}

#[test]
fn acl_missing_libraries_is_exit_code_2_and_names_cann() {
    let mut args = CalibrateArgs::new(BackendKind::Acl);
    args.acl_lib = Some("/nonexistent/libascendcl.so".into());
    args.dcmi_lib = Some("/nonexistent/libdcmi.so".into());
    args.out = Some(out_in_tmp());
    let err = run(&args).unwrap_err();
    assert!(
        matches!(err, CalibrateError::MissingLibrary { .. }),
        "{err:?}"
    );
    assert_eq!(exit_code(&err), 2);
    let msg = err.to_string();
    assert!(msg.contains("libascendcl.so"), "{msg}");
    assert!(msg.contains("libdcmi.so"), "{msg}");
    assert!(msg.contains("Ascend CANN toolkit"), "{msg}");
    assert!(msg.contains("FLEXSIM_ACL_LIB"), "{msg}");
}

#[test]
fn acl_default_search_on_a_driverless_machine() {
    if loadable(&[
        "libascendcl.so",
        "/usr/local/Ascend/ascend-toolkit/latest/lib64/libascendcl.so",
        "libdcmi.so",
        "/usr/local/Ascend/driver/lib64/driver/libdcmi.so",
    ]) {
        eprintln!("skipped: an Ascend library is installed here");
        return;
    }
    let mut args = CalibrateArgs::new(BackendKind::Acl);
    args.out = Some(out_in_tmp());
    let err = run(&args).unwrap_err();
    assert_eq!(exit_code(&err), 2, "{err}");
    assert!(err.to_string().contains("Ascend CANN toolkit"), "{err}");
}
