//! Support every layer uses: the one error type, document loading (JSON/TOML/YAML), dates,
//! atomic files, hashing, the list of public operations, and the fuzzing entry points.

pub mod dates;
pub mod document;
pub mod error;
pub mod fsutil;
#[doc(hidden)]
pub mod fuzzing;
pub mod hash;
pub mod operations;
