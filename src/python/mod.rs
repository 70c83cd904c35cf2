//! The PyO3 binding layer: thin wrappers that convert arguments and results, and wait on the core's futures
//! (blocking with the GIL released, or as awaitables).
pub mod bulk;
pub mod client;
pub mod companies;
pub mod errors;
pub mod handle;
pub mod jobs;
pub mod leads;
pub mod memory;
pub mod models;
pub mod paging;
pub mod people;
pub mod progress;
pub mod result_set;
pub mod results;
pub mod runtime;
pub mod sandbox;
pub mod search;
pub mod tables;
pub mod twins;
pub mod validation;
