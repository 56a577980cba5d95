//! JSON values <-> Python objects, and core values <-> JSON via serde. Results cross into
//! Python as plain JSON-compatible objects; the pure-Python layer turns them into typed classes.

use bt_dr_core::{Error, ProductVersion};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use time::{Date, OffsetDateTime, Time};

use crate::errors::py_result;

/// A JSON value as a Python object (dict, list, str, int, float, bool, None).
pub fn json_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(a) => {
            let list = PyList::empty(py);
            for x in a {
                list.append(json_to_py(py, x)?)?;
            }
            list.into_any()
        }
        Value::Object(m) => {
            let dict = PyDict::new(py);
            for (k, x) in m {
                dict.set_item(k, json_to_py(py, x)?)?;
            }
            dict.into_any()
        }
    })
}

/// A JSON-compatible Python object (dict with str keys, list, tuple, str, int, float, bool,
/// None) as a JSON value. Anything else is a `TypeError`.
pub fn py_to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.cast::<PyInt>().is_ok() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        return Ok(Value::from(obj.extract::<u64>()?));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(serde_json::Number::from_f64(f.value())
            .map(Value::Number)
            .unwrap_or(Value::Null));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.extract::<String>()?));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut m = Map::new();
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| PyTypeError::new_err("dictionary keys must be str"))?
                .extract::<String>()?;
            m.insert(key, py_to_json(&v)?);
        }
        return Ok(Value::Object(m));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return l
            .iter()
            .map(|x| py_to_json(&x))
            .collect::<PyResult<_>>()
            .map(Value::Array);
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return t
            .iter()
            .map(|x| py_to_json(&x))
            .collect::<PyResult<_>>()
            .map(Value::Array);
    }
    Err(PyTypeError::new_err(format!(
        "cannot pass a {} to bt-dr (expected dict, list, str, int, float, bool or None)",
        obj.get_type().name()?
    )))
}

/// Serializes a core value to JSON.
pub fn to_json<T: Serialize>(v: &T) -> PyResult<Value> {
    py_result(serde_json::to_value(v).map_err(|e| Error::invalid_input("result", e.to_string())))
}

/// Serializes a core value into a Python object.
pub fn to_py<'py, T: Serialize>(py: Python<'py>, v: &T) -> PyResult<Bound<'py, PyAny>> {
    json_to_py(py, &to_json(v)?)
}

/// Deserializes a core value from a Python dict; errors name the field (`InvalidInput`).
pub fn from_py<T: DeserializeOwned>(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    from_json(py_to_json(obj)?, what)
}

/// Deserializes a core value from JSON; errors name the field (`InvalidInput`).
pub fn from_json<T: DeserializeOwned>(v: Value, what: &str) -> PyResult<T> {
    py_result(serde_json::from_value(v).map_err(|e| Error::invalid_input(what, e.to_string())))
}

/// A `YYYY-MM-DD` date (the core's parser; errors become `InvalidInput`).
pub fn parse_date(s: &str, field: &str) -> PyResult<Date> {
    py_result(bt_dr_core::dates::parse_date(s, field))
}

/// An `HH:MM:SS` time of day.
pub fn parse_time(s: &str, field: &str) -> PyResult<Time> {
    py_result(bt_dr_core::dates::parse_time(s, field))
}

/// RFC 3339 timestamp.
pub fn parse_rfc3339(s: &str, field: &str) -> PyResult<OffsetDateTime> {
    py_result(
        OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).map_err(
            |e| Error::invalid_input(field, format!("`{s}` is not an RFC 3339 timestamp: {e}")),
        ),
    )
}

/// Parses a product version (`X.Y.Z` or the check_health form with build).
pub fn parse_version(text: &str) -> PyResult<ProductVersion> {
    py_result(text.parse())
}
