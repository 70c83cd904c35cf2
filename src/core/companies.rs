//! Company lookups.

use super::error::{Error, Result};
use super::models::Company;
use super::transport::{Client, Request};

pub async fn find(
    client: &Client,
    domain: Option<&str>,
    linkedin_url: Option<&str>,
) -> Result<Option<Company>> {
    let domain = domain.map(str::trim);
    let linkedin_url = linkedin_url.map(str::trim);
    let mut query = Vec::new();
    match (domain, linkedin_url) {
        (Some(""), _) | (_, Some("")) => {
            return Err(Error::InvalidInput(
                "`domain` / `linkedin_url` is empty; give a value".into(),
            ));
        }
        (None, None) => {
            return Err(Error::InvalidInput(
                "give `domain` (like example.com) or `linkedin_url` of the company".into(),
            ));
        }
        _ => {}
    }
    if let Some(d) = domain {
        query.push(("domain".to_string(), d.to_string()));
    }
    if let Some(l) = linkedin_url {
        query.push(("linkedin_url".to_string(), l.to_string()));
    }
    let req = Request {
        query,
        ..Request::get("/companies/find")
    };
    match client.send(&req).await {
        Ok(resp) => Company::parse(&resp).map(Some),
        Err(Error::Status(s)) if s.status == 404 => Ok(None),
        Err(e) => Err(e),
    }
}
