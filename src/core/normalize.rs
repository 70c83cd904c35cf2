//! Normalisation of lookup values, so matching is case-insensitive and whitespace-tolerant: the sandbox matches
//! by these forms, and the result cache keys its answers by them.

/// Lower-cases and collapses runs of whitespace to one space.
pub fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for word in value.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

pub fn email(value: &str) -> String {
    value.trim().to_lowercase()
}

/// `https://www.Example.com/about` and `example.com` both become `example.com`.
pub fn domain(value: &str) -> String {
    let v = value.trim().to_lowercase();
    let v = strip_scheme(&v);
    let v = v.strip_prefix("www.").unwrap_or(v);
    let host = v.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default();
    host.trim_end_matches('.').to_string()
}

/// The key of a LinkedIn profile or company URL: `in/jane-doe-1a2b` or `company/acme`.
/// A bare id (`jane-doe-1a2b`) is taken as a profile id, as enrichment leads send `linkedin_id`.
pub fn linkedin(value: &str) -> String {
    let v = value.trim().to_lowercase();
    let v = strip_scheme(&v);
    let v = v.split(['?', '#']).next().unwrap_or_default();
    let v = v.trim_end_matches('/');
    let path = match v.find("linkedin.com/") {
        Some(at) => &v[at + "linkedin.com/".len()..],
        None if v.contains('/') => v,
        None => return format!("in/{v}"),
    };
    path.trim_matches('/').to_string()
}

fn strip_scheme(v: &str) -> &str {
    v.strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))
        .unwrap_or(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_case_and_space_insensitive() {
        assert_eq!(text("  Jane   DOE "), "jane doe");
        assert_eq!(text("José\tNúñez"), "josé núñez");
    }

    #[test]
    fn domains_lose_scheme_www_path_and_port() {
        for v in [
            "example.com",
            "https://www.Example.com/about",
            "http://example.com:8080",
            " WWW.example.com. ",
        ] {
            assert_eq!(domain(v), "example.com", "{v}");
        }
    }

    #[test]
    fn linkedin_urls_and_ids_share_a_key() {
        for v in [
            "https://www.linkedin.com/in/jane-doe-1a2b",
            "http://linkedin.com/in/Jane-Doe-1a2b/",
            "linkedin.com/in/jane-doe-1a2b?trk=abc",
            "jane-doe-1a2b",
            "in/jane-doe-1a2b",
        ] {
            assert_eq!(linkedin(v), "in/jane-doe-1a2b", "{v}");
        }
        assert_eq!(linkedin("https://www.linkedin.com/company/acme/"), "company/acme");
    }
}
