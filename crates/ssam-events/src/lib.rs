//! Typed AWS event shapes and generate-event.
