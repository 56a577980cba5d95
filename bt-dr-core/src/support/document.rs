//! Loading user documents (inventory, upgrade table, appliance records) from TOML, JSON or YAML
//! with errors that name the file, the line and column, and the field.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::support::error::Location;
use crate::support::error::{Error, Result};

/// A document format, chosen by file extension or given explicitly. Text given without a
/// format is TOML (the default): inventories and records are written by hand, and TOML is what
/// the examples use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// TOML (`.toml`).
    #[default]
    Toml,
    /// JSON (`.json`).
    Json,
    /// YAML (`.yaml`, `.yml`).
    Yaml,
}

impl Format {
    /// Picks the format from a path's extension.
    pub fn from_path(path: &Path) -> Result<Self> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("toml") => Ok(Format::Toml),
            Some("json") => Ok(Format::Json),
            Some("yaml") | Some("yml") => Ok(Format::Yaml),
            _ => Err(Error::invalid_input(
                "path",
                format!(
                    "{}: extension must be .toml, .json, .yaml or .yml",
                    path.display()
                ),
            )),
        }
    }
}

/// Parses a format name as the bindings and the CLI take it: `toml`, `json`, `yaml` or `yml`,
/// in any case, surrounding blanks ignored. Anything else is [`Error::InvalidInput`] on the
/// field `format` (the message quotes the name given: a format name is never a secret).
///
/// ```
/// use bt_dr_core::document::Format;
/// assert_eq!(" YML ".parse::<Format>()?, Format::Yaml);
/// assert_eq!("xml".parse::<Format>().unwrap_err().kind(), bt_dr_core::ErrorKind::InvalidInput);
/// # Ok::<(), bt_dr_core::Error>(())
/// ```
impl std::str::FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "toml" => Ok(Format::Toml),
            "json" => Ok(Format::Json),
            "yaml" | "yml" => Ok(Format::Yaml),
            other => Err(Error::invalid_input(
                "format",
                format!("`{other}` is not toml, json or yaml"),
            )),
        }
    }
}

impl Format {
    /// The format's canonical name (`toml`, `json`, `yaml`), which [`str::parse`] reads back.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Toml => "toml",
            Format::Json => "json",
            Format::Yaml => "yaml",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Options given as JSON by a binding: `null` is the defaults; any other value must be an
/// object of the type's fields. A failure is [`Error::InvalidInput`] on `what` that names an
/// unknown field but never quotes a value (serde's messages may, and options carry
/// passwords and DNS keys).
pub(crate) fn options_from_json<T: DeserializeOwned + Default>(
    value: serde_json::Value,
    what: &str,
) -> Result<T> {
    if value.is_null() {
        return Ok(T::default());
    }
    // serde reads a struct from an array too (fields by position): options are named, always.
    if !value.is_object() {
        return Err(Error::invalid_input(what, "options must be a JSON object"));
    }
    serde_json::from_value(value).map_err(|e| {
        let msg = e.to_string();
        // "unknown field `x`, expected one of …": the field name is the caller's key, not a value.
        let msg = if msg.starts_with("unknown field") {
            msg.split(", expected").next().unwrap_or(&msg).to_string()
        } else {
            "an option has the wrong type or value".to_string()
        };
        Error::invalid_input(what, msg)
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

fn field_of(path: &serde_path_to_error::Path) -> Option<String> {
    let s = path.to_string();
    (s != ".").then_some(s)
}

/// Parses `text` as `what` in `format`; `file` only labels errors.
pub fn parse_document<T: DeserializeOwned>(
    text: &str,
    format: Format,
    what: &str,
    file: Option<&Path>,
) -> Result<T> {
    let loc = |line, column| {
        Some(Box::new(Location {
            file: file.map(Path::to_path_buf),
            line,
            column,
        }))
    };
    match format {
        Format::Json => {
            let mut de = serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(&mut de).map_err(|e| {
                let field = field_of(e.path());
                let inner = e.into_inner();
                Error::Parse {
                    what: what.into(),
                    location: loc(Some(inner.line()), Some(inner.column())),
                    field,
                    reason: strip_position(&inner.to_string()),
                }
            })
        }
        Format::Toml => {
            let de = toml::Deserializer::parse(text)
                .map_err(|e| toml_error(e, text, what, file, None))?;
            serde_path_to_error::deserialize(de).map_err(|e| {
                let field = field_of(e.path());
                toml_error(e.into_inner(), text, what, file, field)
            })
        }
        Format::Yaml => {
            let de = serde_yaml_ng::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de).map_err(|e| {
                let field = field_of(e.path());
                let inner = e.into_inner();
                let (l, c) = inner
                    .location()
                    .map(|l| (Some(l.line()), Some(l.column())))
                    .unwrap_or((None, None));
                Error::Parse {
                    what: what.into(),
                    location: loc(l, c),
                    field,
                    reason: strip_position(&inner.to_string()),
                }
            })
        }
    }
}

fn toml_error(
    e: toml::de::Error,
    text: &str,
    what: &str,
    file: Option<&Path>,
    field: Option<String>,
) -> Error {
    let (line, column) = match e.span() {
        Some(s) => {
            let (l, c) = line_col(text, s.start);
            (Some(l), Some(c))
        }
        None => (None, None),
    };
    Error::Parse {
        what: what.into(),
        location: Some(Box::new(Location {
            file: file.map(Path::to_path_buf),
            line,
            column,
        })),
        field,
        reason: e.message().trim().to_string(),
    }
}

/// serde_json and serde_yaml append " at line X column Y"; we report the location separately.
fn strip_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Reads and parses a document, choosing the format by extension.
pub fn load_document<T: DeserializeOwned>(path: &Path, what: &str) -> Result<T> {
    let format = Format::from_path(path)?;
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("reading", path, e))?;
    parse_document(&text, format, what, Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_parse_and_print_back() {
        for f in [Format::Toml, Format::Json, Format::Yaml] {
            assert_eq!(f.as_str().parse::<Format>().unwrap(), f);
            assert_eq!(f.to_string().to_uppercase().parse::<Format>().unwrap(), f);
        }
        assert_eq!("yml".parse::<Format>().unwrap(), Format::Yaml);
        let e = "ini".parse::<Format>().unwrap_err();
        assert_eq!(e.kind(), crate::support::error::ErrorKind::InvalidInput);
        assert_eq!(e.details()["field"], "format");
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Doc {
        name: String,
        inner: Inner,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        port: u16,
    }

    #[test]
    fn toml_error_has_line_column_and_field() {
        let text = "name = \"x\"\n[inner]\nport = \"eighty\"\n";
        let e = parse_document::<Doc>(text, Format::Toml, "test", Some(Path::new("a.toml")))
            .unwrap_err();
        let Error::Parse {
            location, field, ..
        } = &e
        else {
            panic!("{e}")
        };
        let l = location.as_ref().unwrap();
        assert_eq!(l.line, Some(3), "{e}");
        assert_eq!(field.as_deref(), Some("inner.port"), "{e}");
        assert!(e.to_string().contains("a.toml:3"), "{e}");
    }

    #[test]
    fn json_and_yaml_errors_locate() {
        let e = parse_document::<Doc>(
            "{\"name\":\"x\",\n\"inner\":{\"port\":-1}}",
            Format::Json,
            "t",
            None,
        )
        .unwrap_err();
        let Error::Parse {
            location, field, ..
        } = &e
        else {
            panic!()
        };
        assert_eq!(location.as_ref().unwrap().line, Some(2));
        assert_eq!(field.as_deref(), Some("inner.port"));
        let e = parse_document::<Doc>("name: x\ninner:\n  port: many\n", Format::Yaml, "t", None)
            .unwrap_err();
        let Error::Parse {
            location, field, ..
        } = &e
        else {
            panic!()
        };
        assert_eq!(location.as_ref().unwrap().line, Some(3), "{e}");
        assert_eq!(field.as_deref(), Some("inner.port"));
    }
}
