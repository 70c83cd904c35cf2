//! Tables in and out, in Arrow: leads read from a table's columns (`read`, by the header rules of `columns`), and
//! results written as typed columns beside the input's (`write`). Plain Rust: Python hands tables over through the
//! Arrow C stream interface in `src/python/tables.rs`.

pub mod columns;
pub mod read;
pub mod write;

pub use read::InputTable;
