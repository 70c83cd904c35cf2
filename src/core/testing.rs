//! What the core's unit tests share.

use serde_json::{Map, Value};

/// The object `json!({...})` wrote, as the map that leads, companies and options are passed around as.
pub fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("expected a JSON object, got {other}"),
    }
}
