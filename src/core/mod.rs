//! The client core: plain Rust, no Python. Transport (pool, auth, pacing, retries), models, and one async
//! function per API operation; `src/python` exposes them as blocking and awaitable methods.

pub mod account;
pub mod behind;
pub mod budget;
pub mod bulk;
pub mod cache;
pub mod companies;
pub mod config;
pub mod error;
pub mod jobs;
pub mod lead;
pub mod memory;
pub mod models;
pub mod normalize;
pub mod pacing;
pub mod paging;
#[cfg(test)]
mod parser_props;
pub mod people;
pub mod retry;
pub mod table;
#[cfg(test)]
mod testing;
pub mod transport;

pub use config::{ApiKey, Config, KeySource};

pub use error::{Error, Result};
pub use transport::Client;

/// Rust's allocations (not Python's) go to jemalloc: requests, responses and parsed objects are allocated on one
/// runtime thread and often freed on another, which glibc's malloc made about a fifth of a find's CPU time.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
