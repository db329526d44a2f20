//! The ACL/DCMI binding end to end against the C test doubles (acl_test_double.c,
//! dcmi_test_double.c, built by build.rs into OUT_DIR): the profile written from them carries
//! the doubles' known values, and the "old release" variants degrade fields to `None`.

use std::path::{Path, PathBuf};

use flexsim_calibrate::{
    exit_code, run, BackendKind, CalibrateArgs, CalibrateError, DeviceProfile,
};

fn double(name: &str) -> PathBuf {
    let p = Path::new(env!("FLEXSIM_TEST_DOUBLE_DIR")).join(name);
    assert!(
        p.exists(),
        "test double {} was not built (build.rs needs a C compiler; see its warnings)",
        p.display()
    );
    p
}

fn args(acl: Option<&str>, dcmi: Option<&str>, out: &Path) -> CalibrateArgs {
    let mut a = CalibrateArgs::new(BackendKind::Acl);
    a.acl_lib = Some(
        acl.map(double)
            .unwrap_or_else(|| "/nonexistent/libascendcl.so".into()),
    );
    a.dcmi_lib = Some(
        dcmi.map(double)
            .unwrap_or_else(|| "/nonexistent/libdcmi.so".into()),
    );
    a.out = Some(out.to_path_buf());
    a
}

#[test]
fn full_doubles_fill_the_inventory_and_the_written_profile_matches() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("profiles").join("ascend.toml");
    let p = run(&args(
        Some("libacl_double_full.so"),
        Some("libdcmi_double_full.so"),
        &out,
    ))
    .unwrap();
    let inv = &p.inventory;
    assert_eq!(inv.model, "Ascend910B3");
    assert_eq!(inv.device_index, 0);
    assert_eq!(inv.ai_core_count, Some(20));
    assert_eq!(inv.memory_mib, Some(64 * 1024));
    assert_eq!(inv.cann_version.as_deref(), Some("8.0.RC3"));
    assert_eq!(inv.is_virtual, Some(false));
    assert_eq!(inv.mig_supported, Some(false));
    assert!(p.measured.demand.is_none(), "no workload, no measurement");
    assert!(p.provenance.notes.is_empty(), "{:?}", p.provenance.notes);
    assert_eq!(DeviceProfile::load(&out).unwrap(), p);
}

#[test]
fn workload_on_the_double_derives_demand_speed_and_overhead() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.toml");
    let mut a = args(
        Some("libacl_double_full.so"),
        Some("libdcmi_double_full.so"),
        &out,
    );
    a.device = 1;
    // Each copy checks it was pointed at device 1 and reports 120/k: the copies share the
    // device's throughput exactly.
    a.workload = Some(
        r#"test "$ASCEND_RT_VISIBLE_DEVICES" = 1 || exit 7; sleep 0.3; echo FLEXSIM_THROUGHPUT=$((120 / FLEXSIM_COPIES))"#
            .into(),
    );
    a.colocate = vec![2, 4];
    let p = run(&a).unwrap();
    // Logical 1 is card 0 in the DCMI double: 24 AI cores there, but ACL answers first (20).
    assert_eq!(p.inventory.device_index, 1);
    let m = &p.measured;
    // DCMI type 13 reads 90 % ⇒ u = 0.9.
    assert!((m.demand.unwrap() - 0.9).abs() < 1e-9, "{:?}", m.demand);
    assert_eq!(m.solo_throughput, Some(120.0));
    let rel: Vec<(u32, f64)> = m
        .speed_rel
        .as_ref()
        .unwrap()
        .iter()
        .map(|p| (p.copies, p.value))
        .collect();
    let expected = [(1, 1.0), (2, 0.5), (4, 0.25)];
    assert_eq!(rel.len(), expected.len());
    for ((k, v), (ek, ev)) in rel.iter().zip(expected) {
        assert_eq!(*k, ek);
        assert!((v - ev).abs() < 1e-9, "{rel:?}");
    }
    // o_ts(k) = 1 − u·Σ/solo = 1 − 0.9 = 0.1 for both k.
    let o = m.timeslice_overhead.as_ref().unwrap();
    assert_eq!(o.len(), 2);
    assert!(o.iter().all(|p| (p.value - 0.1).abs() < 1e-9), "{o:?}");
    assert!(m.interference.unwrap() > 0.0);
    assert_eq!(p.provenance.throughput_source.as_deref(), Some("printed"));
    assert_eq!(
        p.provenance.utilization_source.as_deref(),
        Some("dcmi utilization type 13 (whole NPU)")
    );
    assert_eq!(p.provenance.colocate, vec![1, 2, 4]);
    assert_eq!(DeviceProfile::load(&out).unwrap(), p);
}

#[test]
fn old_releases_degrade_to_fewer_fields() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("old.toml");
    let mut a = args(
        Some("libacl_double_old.so"),
        Some("libdcmi_double_old.so"),
        &out,
    );
    a.workload = Some("echo FLEXSIM_THROUGHPUT=10".into());
    a.colocate = vec![1];
    let p = run(&a).unwrap();
    let inv = &p.inventory;
    assert_eq!(inv.model, "Ascend910B3");
    // Memory still comes from aclrtSetDevice + aclrtGetMemInfo, which old releases have.
    assert_eq!(inv.memory_mib, Some(64 * 1024));
    assert_eq!(inv.ai_core_count, None);
    assert_eq!(inv.cann_version, None);
    assert_eq!(inv.is_virtual, None);
    // No utilisation counter: demand unknown, said so; throughput still measured.
    assert_eq!(p.measured.demand, None);
    assert_eq!(p.measured.solo_throughput, Some(10.0));
    let notes = p.provenance.notes.join("\n");
    assert!(notes.contains("aclrtGetDeviceInfo"), "{notes}");
    assert!(notes.contains("dcmi_get_device_chip_info"), "{notes}");
    assert!(notes.contains("no utilisation counter"), "{notes}");
    assert_eq!(DeviceProfile::load(&out).unwrap(), p);
}

#[test]
fn old_acl_with_full_dcmi_takes_cores_and_utilisation_from_dcmi() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = args(
        Some("libacl_double_old.so"),
        Some("libdcmi_double_full.so"),
        &dir.path().join("mixed.toml"),
    );
    a.device = 1;
    let p = run(&a).unwrap();
    // Logical id 1 is card 0 in the double, which reports 24 AI cores.
    assert_eq!(p.inventory.ai_core_count, Some(24));
    assert_eq!(p.inventory.cann_version, None);
}

#[test]
fn dcmi_alone_is_enough_for_an_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let p = run(&args(
        None,
        Some("libdcmi_double_full.so"),
        &dir.path().join("dcmi.toml"),
    ))
    .unwrap();
    assert_eq!(p.inventory.model, "Ascend910B3");
    assert_eq!(p.inventory.ai_core_count, Some(20));
    assert_eq!(p.inventory.memory_mib, None);
    assert!(p
        .provenance
        .notes
        .iter()
        .any(|n| n.contains("libascendcl.so not loaded")));
}

#[test]
fn acl_only_uses_acl_utilisation() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = args(
        Some("libacl_double_full.so"),
        None,
        &dir.path().join("acl.toml"),
    );
    a.workload = Some("sleep 0.3; echo FLEXSIM_THROUGHPUT=5".into());
    a.colocate = vec![1];
    let p = run(&a).unwrap();
    // max(cube 37 %, vector 21 %).
    let demand = p.measured.demand.unwrap();
    assert!((demand - 0.37).abs() < 1e-9, "{demand}");
    assert_eq!(
        p.provenance.utilization_source.as_deref(),
        Some("acl aclrtGetDeviceUtilizationRate max(cube, vector)")
    );
}

#[test]
fn a_device_the_double_does_not_have_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = args(
        Some("libacl_double_full.so"),
        Some("libdcmi_double_full.so"),
        &dir.path().join("none.toml"),
    );
    a.device = 7;
    let e = run(&a).unwrap_err();
    assert_eq!(flexsim_calibrate::exit_code(&e), 3, "{e}");
    assert!(e.to_string().contains("no device 7"), "{e}");
}

#[test]
fn calibration_refuses_bad_workloads_and_writes_no_profile() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.toml");
    let base = args(
        Some("libacl_double_full.so"),
        Some("libdcmi_double_full.so"),
        &out,
    );
    // The double reads 90 % busy: u = 0.9. Cases: not a number, a failing command, one too
    // short to time, an empty command, and copies that each beat the solo run fourfold.
    let cases = [
        (
            "echo FLEXSIM_THROUGHPUT=abc",
            4,
            "printed `FLEXSIM_THROUGHPUT=abc`",
        ),
        ("false", 4, "exited with exit status: 1"),
        ("true", 4, "finished in"),
        (" ", 1, "--workload \" \" is empty"),
        (
            "echo FLEXSIM_THROUGHPUT=$((10 * FLEXSIM_COPIES * FLEXSIM_COPIES))",
            4,
            "implausible measurement: speed_rel(2) = 4.0000",
        ),
    ];
    for (cmd, code, says) in cases {
        let mut a = base.clone();
        a.workload = Some(cmd.into());
        a.colocate = vec![2];
        let e = run(&a).expect_err(cmd);
        assert_eq!(exit_code(&e), code, "{cmd}: {e}");
        assert!(e.to_string().contains(says), "{cmd}: {e}");
        assert!(!out.exists(), "{cmd}: a profile was written");
        if code == 4 {
            assert!(
                matches!(
                    e,
                    CalibrateError::Workload(_) | CalibrateError::Implausible(_)
                ),
                "{e:?}"
            );
        }
    }
}
