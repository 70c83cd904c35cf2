//! Client configuration, validated once, with the API key kept out of every rendering.

use std::fmt;
use std::time::Duration;

use url::Url;

use super::error::{Error, Result};
use super::pacing::RateLimits;

pub const DEFAULT_BASE_URL: &str = "https://api.amplemarket.com";

/// The API key. `Debug` and `Display` show at most `amp_…1234`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: &str) -> Result<Self> {
        let key = key.trim();
        if key.is_empty() {
            return Err(Error::Config(
                "the API key is empty; pass api_key=... or set AMPLEMARKET_API_KEY".into(),
            ));
        }
        if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::Config(
                "the API key contains whitespace or control characters; copy it again from Amplemarket's settings"
                    .into(),
            ));
        }
        Ok(ApiKey(key.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `amp_…1234`: enough to tell keys apart, too little to use.
    pub fn redacted(&self) -> String {
        let tail: String = if self.0.chars().count() >= 12 {
            let chars: Vec<char> = self.0.chars().collect();
            chars[chars.len() - 4..].iter().collect()
        } else {
            String::new()
        };
        let prefix = if self.0.starts_with("amp_") { "amp_" } else { "" };
        format!("{prefix}…{tail}")
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Where the API key came from, so a rejected key can be traced without showing it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeySource {
    /// `Client(api_key=...)`.
    #[default]
    Argument,
    /// The `AMPLEMARKET_API_KEY` environment variable, read by a `Client()`.
    Environment,
    /// The `AMPLEMARKET_API_KEY` environment variable, read by the default client (calls given `client=None`).
    DefaultClient,
}

impl KeySource {
    pub fn describe(self) -> &'static str {
        match self {
            KeySource::Argument => "passed as Client(api_key=...)",
            KeySource::Environment => "read from the AMPLEMARKET_API_KEY environment variable",
            KeySource::DefaultClient => {
                "read from the AMPLEMARKET_API_KEY environment variable by the default client (client=None)"
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub api_key: ApiKey,
    pub key_source: KeySource,
    pub base_url: Url,
    /// Per attempt.
    pub timeout: Option<Duration>,
    pub connect_timeout: Duration,
    pub max_retries: u32,
    /// A `Retry-After` longer than this raises instead of sleeping.
    pub max_retry_wait: Duration,
    /// How long a reveal answering 408 "still processing" is waited out.
    pub reveal_timeout: Duration,
    pub rate_limits: Option<RateLimits>,
    pub user_agent: String,
    /// Retries a job creation cut short (5xx, dropped, cut answer) with its `Idempotency-Key`, trusting the server
    /// to answer with the job it may already have started. The sandbox honours the key; the public API does not
    /// document it, so this is off unless asked for.
    pub trust_idempotency_key: bool,
}

/// Settings a caller changes, each checked here (`None`: keep the current value). `timeout` is in seconds,
/// `f64::INFINITY` for none.
#[derive(Default)]
pub struct Settings {
    pub timeout: Option<f64>,
    pub connect_timeout: Option<f64>,
    pub max_retries: Option<i64>,
    pub max_retry_wait: Option<f64>,
    pub reveal_timeout: Option<f64>,
    pub rate_limits: Option<Option<RateLimits>>,
    pub user_agent: Option<String>,
    pub trust_idempotency_key: Option<bool>,
}

impl Config {
    /// The documented defaults for a key and a base URL (`AMPLEMARKET_BASE_URL`, else the public API's).
    pub fn new(api_key: ApiKey, key_source: KeySource, base_url: Option<String>) -> Result<Config> {
        let base_url = base_url
            .or_else(|| {
                std::env::var("AMPLEMARKET_BASE_URL")
                    .ok()
                    .filter(|u| !u.trim().is_empty())
            })
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        Ok(Config {
            api_key,
            key_source,
            base_url: parse_base_url(&base_url)?,
            timeout: Some(Duration::from_secs(30)),
            connect_timeout: Duration::from_secs(10),
            max_retries: 3,
            max_retry_wait: Duration::from_secs(120),
            reveal_timeout: Duration::from_secs(180),
            rate_limits: Some(RateLimits::default()),
            user_agent: user_agent(),
            trust_idempotency_key: false,
        })
    }

    /// The key given, else `AMPLEMARKET_API_KEY`, with where it came from.
    pub fn key(given: Option<String>, from_env: KeySource) -> Result<(ApiKey, KeySource)> {
        let source = if given.is_some() { KeySource::Argument } else { from_env };
        match given.or_else(|| std::env::var("AMPLEMARKET_API_KEY").ok()) {
            Some(k) => Ok((ApiKey::new(&k)?, source)),
            None => Err(Error::Config(
                "no API key: pass Client(api_key=...) or set the AMPLEMARKET_API_KEY environment variable \
                 (for local tests, amplemarket.testing.Sandbox gives you one)"
                    .into(),
            )),
        }
    }

    /// This configuration with `s` applied; nothing changes unless every setting given is valid.
    pub fn with(mut self, s: Settings) -> Result<Config> {
        if let Some(t) = s.timeout {
            self.timeout = if t == f64::INFINITY {
                None
            } else {
                Some(seconds("timeout", t)?)
            };
        }
        if let Some(v) = s.connect_timeout {
            self.connect_timeout = seconds("connect_timeout", v)?;
        }
        if let Some(n) = s.max_retries {
            if !(0..=20).contains(&n) {
                return Err(Error::InvalidInput(format!(
                    "max_retries must be from 0 to 20, got {n}"
                )));
            }
            self.max_retries = n as u32;
        }
        if let Some(v) = s.max_retry_wait {
            self.max_retry_wait = seconds("max_retry_wait", v)?;
        }
        if let Some(v) = s.reveal_timeout {
            self.reveal_timeout = seconds("reveal_timeout", v)?;
        }
        if let Some(r) = s.rate_limits {
            self.rate_limits = r;
        }
        if let Some(ua) = s.user_agent {
            self.user_agent = check_user_agent(ua)?;
        }
        if let Some(t) = s.trust_idempotency_key {
            self.trust_idempotency_key = t;
        }
        Ok(self)
    }
}

pub fn user_agent() -> String {
    format!("amplemarket-python/{}", env!("CARGO_PKG_VERSION"))
}

/// A caller's `User-Agent`, checked when it is given rather than at the first request.
pub fn check_user_agent(ua: String) -> Result<String> {
    match reqwest::header::HeaderValue::from_str(&ua) {
        Ok(_) if !ua.trim().is_empty() => Ok(ua),
        _ => Err(Error::InvalidInput(format!(
            "user_agent {ua:?} cannot be sent as a header: use visible ASCII text without line breaks, \
             such as \"my-app/1.0\""
        ))),
    }
}

/// Checks a base URL: `https://` anywhere, `http://` only on this machine, no path, query or credentials.
pub fn parse_base_url(raw: &str) -> Result<Url> {
    let raw = raw.trim();
    let url = Url::parse(raw).map_err(|e| {
        Error::Config(format!(
            "base_url {raw:?} is not a URL ({e}); use e.g. {DEFAULT_BASE_URL}"
        ))
    })?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if !loopback {
                return Err(Error::Config(format!(
                    "base_url {raw:?} uses plain http:// to another machine, which would send your API key \
                     unencrypted; use https:// (http:// is allowed only for localhost, e.g. the sandbox)"
                )));
            }
        }
        other => {
            return Err(Error::Config(format!(
                "base_url {raw:?} has scheme {other:?}; use https:// (or http:// for localhost)"
            )))
        }
    }
    if url.host().is_none() {
        return Err(Error::Config(format!("base_url {raw:?} has no host")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Config(format!(
            "base_url {raw:?} carries credentials; pass the API key as api_key=... instead"
        )));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!(
            "base_url {raw:?} has a path or query; give only scheme, host and port, e.g. {DEFAULT_BASE_URL}"
        )));
    }
    Ok(url)
}

/// An optional deadline in seconds (`None`: no deadline).
pub fn deadline(name: &str, value: Option<f64>) -> Result<Option<Duration>> {
    value.map(|v| seconds(name, v)).transpose()
}

/// A timeout in seconds: positive and finite.
pub fn seconds(name: &str, value: f64) -> Result<Duration> {
    if value.is_finite() && value > 0.0 && value <= 7.0 * 24.0 * 3600.0 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(Error::InvalidInput(format!(
            "{name} must be a positive number of seconds (at most a week), got {value}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_render_in_full() {
        let k = ApiKey::new(" amp_live_0123456789abcdef ").unwrap();
        assert_eq!(k.expose(), "amp_live_0123456789abcdef");
        assert_eq!(format!("{k:?} {k}"), "amp_…cdef amp_…cdef");
        assert_eq!(ApiKey::new("short").unwrap().redacted(), "…");
        assert!(ApiKey::new("  ").is_err());
        assert!(ApiKey::new("amp key").is_err());
    }

    #[test]
    fn base_urls() {
        for ok in [
            "https://api.amplemarket.com",
            "https://api.amplemarket.com/",
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
        ] {
            assert!(parse_base_url(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("http://api.amplemarket.com", "unencrypted"),
            ("https://api.amplemarket.com/v1", "path"),
            ("https://api.amplemarket.com?x=1", "path or query"),
            ("ftp://x.com", "scheme"),
            ("api.amplemarket.com", "not a URL"),
            ("https://user:pw@api.amplemarket.com", "credentials"),
            ("http://10.0.0.1", "unencrypted"),
        ] {
            let e = parse_base_url(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn timeouts_are_positive_and_finite() {
        assert!(seconds("timeout", 0.5).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e9] {
            assert!(seconds("timeout", bad).is_err(), "{bad}");
        }
    }
}
