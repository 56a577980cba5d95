//! The exception hierarchy: `bt_dr.BtDrError` and one subclass per [`ErrorKind`], named by
//! [`ErrorKind::python_class`]. Every raised exception carries `kind`, `code` (the stable
//! `BT_DR_*` code), `message` and `details` (the core's [`Error::details`]), and each detail
//! field as an attribute too.

use bt_dr_core::{Error, ErrorKind};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyModule, PyType};

use crate::convert::json_to_py;

create_exception!(
    bt_dr,
    BtDrError,
    PyException,
    "Base class of every bt-dr error; `kind`, `code`, `message` and `details` describe it."
);
create_exception!(
    bt_dr,
    InvalidInput,
    BtDrError,
    "A caller-supplied value is out of range or inconsistent."
);
create_exception!(
    bt_dr,
    ParseError,
    BtDrError,
    "A file or response could not be parsed."
);
create_exception!(
    bt_dr,
    IoError,
    BtDrError,
    "Reading or writing a local file failed."
);
create_exception!(
    bt_dr,
    CertificateError,
    BtDrError,
    "A certificate bundle is unusable."
);
create_exception!(
    bt_dr,
    WrongPassphrase,
    BtDrError,
    "The passphrase or password did not open the file."
);
create_exception!(
    bt_dr,
    VersionIncompatible,
    BtDrError,
    "A backup cannot be restored onto the target site's version."
);
create_exception!(
    bt_dr,
    IntegrityError,
    BtDrError,
    "Data does not match what was promised (size, hash, content type)."
);
create_exception!(
    bt_dr,
    AuthError,
    BtDrError,
    "The appliance rejected the OAuth credentials or token."
);
create_exception!(
    bt_dr,
    PermissionDenied,
    BtDrError,
    "The API account lacks the permission an operation needs."
);
create_exception!(
    bt_dr,
    RateLimited,
    BtDrError,
    "The appliance kept answering 'too many requests' past the retry budget."
);
create_exception!(
    bt_dr,
    ApiError,
    BtDrError,
    "The appliance answered with an API error."
);
create_exception!(
    bt_dr,
    TlsError,
    BtDrError,
    "TLS set-up or verification failed."
);
create_exception!(
    bt_dr,
    NetworkError,
    BtDrError,
    "The appliance could not be reached."
);
create_exception!(
    bt_dr,
    TimeoutError,
    BtDrError,
    "An operation exceeded its time budget."
);
create_exception!(
    bt_dr,
    Cancelled,
    BtDrError,
    "The caller cancelled the operation."
);
create_exception!(
    bt_dr,
    Refused,
    BtDrError,
    "A safety rule refused an action."
);
create_exception!(
    bt_dr,
    NotFound,
    BtDrError,
    "A named thing (site, appliance, backup set, session) does not exist."
);
create_exception!(
    bt_dr,
    InternalError,
    BtDrError,
    "A defect inside bt-dr (a caught Rust panic); never caused by input. Please report it."
);

/// The Python class raised for `kind`.
pub fn exception_type(py: Python<'_>, kind: ErrorKind) -> Bound<'_, PyType> {
    match kind {
        ErrorKind::InvalidInput => py.get_type::<InvalidInput>(),
        ErrorKind::Parse => py.get_type::<ParseError>(),
        ErrorKind::Io => py.get_type::<IoError>(),
        ErrorKind::Certificate => py.get_type::<CertificateError>(),
        ErrorKind::WrongPassphrase => py.get_type::<WrongPassphrase>(),
        ErrorKind::VersionIncompatible => py.get_type::<VersionIncompatible>(),
        ErrorKind::Integrity => py.get_type::<IntegrityError>(),
        ErrorKind::Auth => py.get_type::<AuthError>(),
        ErrorKind::PermissionDenied => py.get_type::<PermissionDenied>(),
        ErrorKind::RateLimited => py.get_type::<RateLimited>(),
        ErrorKind::Api => py.get_type::<ApiError>(),
        ErrorKind::Tls => py.get_type::<TlsError>(),
        ErrorKind::Network => py.get_type::<NetworkError>(),
        ErrorKind::Timeout => py.get_type::<TimeoutError>(),
        ErrorKind::Cancelled => py.get_type::<Cancelled>(),
        ErrorKind::Refused => py.get_type::<Refused>(),
        ErrorKind::NotFound => py.get_type::<NotFound>(),
        ErrorKind::Internal => py.get_type::<InternalError>(),
        // New kinds raise the base class until they get their own.
        _ => py.get_type::<BtDrError>(),
    }
}

/// Converts a core error into the matching Python exception, with its structured fields.
pub fn to_pyerr(e: Error) -> PyErr {
    Python::attach(|py| {
        let kind = e.kind();
        let message = e.to_string();
        let details = e.details();
        let err = PyErr::from_type(exception_type(py, kind), (message.clone(),));
        let value = err.value(py);
        let annotate = || -> PyResult<()> {
            value.setattr("kind", kind.as_str())?;
            // The stable `BT_DR_*` code, as Node's `error.code` and the C status name spell it:
            // the conformance test compares the same {kind, code, message, details} everywhere.
            value.setattr("code", kind.code())?;
            value.setattr("message", &message)?;
            if let Some(obj) = details.as_object() {
                for (k, v) in obj {
                    if k != "kind" && k != "message" {
                        value.setattr(k.as_str(), json_to_py(py, v)?)?;
                    }
                }
            }
            value.setattr("details", json_to_py(py, &details)?)?;
            Ok(())
        };
        if let Err(e) = annotate() {
            return e;
        }
        err
    })
}

/// The panic boundary of every Python entry point: runs `f` and turns a Rust panic into the
/// core's [`Error::Internal`], raised as `bt_dr.InternalError` (a `BtDrError`), instead of
/// pyo3's `PanicException` (a `BaseException` that `except BtDrError` / `except Exception`
/// would miss). Every `#[pyfunction]` and `#[pymethods]` body runs under it.
pub fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let e = Error::from_panic(payload.as_ref());
            // Drop the payload without letting a panicking `Drop` unwind out of here.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(payload)));
            Err(to_pyerr(e))
        }
    }
}

/// `Result` adapter: `core_call().map_err(to_pyerr)?` spelled `py_result(core_call())?`.
pub fn py_result<T>(r: bt_dr_core::Result<T>) -> PyResult<T> {
    r.map_err(to_pyerr)
}

/// Registers the classes on the module, each with a class-level `kind` and `code` (so
/// `except InvalidInput as e: e.code` and `InvalidInput.code` read alike; the base has None).
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let base = py.get_type::<BtDrError>();
    base.setattr("kind", py.None())?;
    base.setattr("code", py.None())?;
    m.add("BtDrError", base)?;
    for kind in ErrorKind::ALL {
        let ty = exception_type(py, kind);
        ty.setattr("kind", kind.as_str())?;
        ty.setattr("code", kind.code())?;
        m.add(kind.python_class(), ty)?;
    }
    Ok(())
}

/// `(kind, python class name)` for every core error kind, for the parity test.
#[pyfunction]
pub fn error_kinds() -> PyResult<Vec<(&'static str, &'static str)>> {
    guard(|| {
        Ok(ErrorKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.python_class()))
            .collect())
    })
}

/// Raises the core's `InvalidInput` for `field` (used by the Python layer for its own checks).
#[pyfunction]
pub fn raise_invalid_input(field: &str, reason: &str) -> PyResult<()> {
    guard(|| Err(to_pyerr(Error::invalid_input(field, reason))))
}

/// Test hook (not public API, not in the stubs or docs): panics inside the guarded boundary so
/// the tests can prove a Rust panic arrives as `bt_dr.InternalError`. `on_thread` panics on a
/// worker thread whose panic is carried back to the caller, as the blocking paths do.
#[pyfunction]
#[pyo3(signature = (message, on_thread=false))]
pub fn _panic_for_test(py: Python<'_>, message: String, on_thread: bool) -> PyResult<()> {
    guard(|| {
        if std::env::var_os("BT_DR_TEST_PANIC").is_none() {
            return Err(to_pyerr(Error::invalid_input(
                "_panic_for_test",
                "is a test hook (set BT_DR_TEST_PANIC=1)",
            )));
        }
        if on_thread {
            fn boom(message: String) {
                panic!("{message}")
            }
            let worker = std::thread::spawn(move || boom(message));
            if let Err(payload) = py.detach(|| worker.join()) {
                std::panic::resume_unwind(payload);
            }
            return Ok(());
        }
        panic!("{message}")
    })
}
