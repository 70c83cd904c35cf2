//! `GET /account-info`: balances and limits; the cheapest call that proves a key works.

use super::error::Result;
use super::models::decode;
use super::transport::{Client, Request};

pub async fn info(client: &Client) -> Result<serde_json::Value> {
    let resp = client.send(&Request::get("/account-info")).await?;
    decode(&resp, "an account_info object")
}
