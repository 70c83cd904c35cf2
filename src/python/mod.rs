//! The PyO3 binding layer: thin wrappers that convert arguments and results and release the GIL while Rust works.
pub mod sandbox;
