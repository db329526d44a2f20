//! Loading a C library at run time and resolving its symbols one by one, so that an older
//! driver or CANN release that lacks a function degrades to fewer fields instead of failing
//! (calibration.md §4.3: "resolve every symbol optionally").

use std::path::{Path, PathBuf};

use libloading::Library;

/// A loaded library and the path it was loaded from.
pub struct DynLib {
    pub lib: Library,
    pub path: String,
}

/// Loads the first candidate that opens: `explicit` alone when given (so a wrong override is
/// reported, not silently replaced), else each default in turn. The error lists every attempt.
pub fn load(explicit: Option<&Path>, defaults: &[&str]) -> Result<DynLib, String> {
    let candidates: Vec<PathBuf> = match explicit {
        Some(p) => vec![p.to_path_buf()],
        None => defaults.iter().map(PathBuf::from).collect(),
    };
    let mut errors = Vec::new();
    for c in &candidates {
        // SAFETY: loading runs the library's initialisers; these are the vendor's driver
        // libraries (or the test double), loaded exactly as their own tools load them.
        match unsafe { Library::new(c) } {
            Ok(lib) => {
                return Ok(DynLib {
                    lib,
                    path: c.display().to_string(),
                })
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    Err(errors.join("; "))
}

/// Resolves `name` as a function pointer of type `T`; records the name in `missing` if absent.
///
/// # Safety
/// `T` must be the function-pointer type of the symbol's documented C signature, and the
/// returned pointer must not outlive `lib`.
pub unsafe fn optional<T: Copy>(
    lib: &Library,
    name: &'static str,
    missing: &mut Vec<&'static str>,
) -> Option<T> {
    match lib.get::<T>(name.as_bytes()) {
        Ok(sym) => Some(*sym),
        Err(_) => {
            missing.push(name);
            None
        }
    }
}

/// A NUL-terminated byte buffer as a trimmed `String`; `None` when empty.
pub fn c_buf_to_string(buf: &[u8]) -> Option<String> {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let s = String::from_utf8_lossy(&buf[..end]).trim().to_string();
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_buffers() {
        assert_eq!(c_buf_to_string(b"910B3\0\0junk"), Some("910B3".into()));
        assert_eq!(c_buf_to_string(b"no-nul"), Some("no-nul".into()));
        assert_eq!(c_buf_to_string(b"\0abc"), None);
    }

    #[test]
    fn missing_library_lists_attempts() {
        let e = load(None, &["/nonexistent/a.so", "/nonexistent/b.so"])
            .err()
            .unwrap();
        assert!(e.contains("a.so") && e.contains("b.so"), "{e}");
    }
}
