//! Node bindings (issue 6).
