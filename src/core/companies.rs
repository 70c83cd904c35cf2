//! Company lookups.

use super::error::{Error, Result};
use super::models::Company;
use super::transport::{Client, Request};

/// Checks a lookup before anything is sent.
pub fn validate(domain: Option<&str>, linkedin_url: Option<&str>) -> Result<()> {
    match (domain.map(str::trim), linkedin_url.map(str::trim)) {
        (Some(""), _) | (_, Some("")) => Err(Error::InvalidInput(
            "`domain` / `linkedin_url` is empty; give a value".into(),
        )),
        (None, None) => Err(Error::InvalidInput(
            "give `domain` (like example.com) or `linkedin_url` of the company".into(),
        )),
        _ => Ok(()),
    }
}

pub async fn find(client: &Client, domain: Option<&str>, linkedin_url: Option<&str>) -> Result<Option<Company>> {
    validate(domain, linkedin_url)?;
    let mut query = Vec::new();
    if let Some(d) = domain {
        query.push(("domain".to_string(), d.trim().to_string()));
    }
    if let Some(l) = linkedin_url {
        query.push(("linkedin_url".to_string(), l.trim().to_string()));
    }
    let req = Request {
        query,
        ..Request::get("/companies/find")
    };
    let send = async {
        match client.send(&req).await {
            Ok(resp) => Company::parse(&resp).map(Some),
            Err(Error::Status(s)) if s.status == 404 => Ok(None),
            Err(e) => Err(e),
        }
    };
    super::memory::find_company(client, domain, linkedin_url, send).await
}
