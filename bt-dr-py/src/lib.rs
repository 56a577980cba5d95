//! Python bindings (issue 5).
