//! Normalisation of lookup values, so matching is case-insensitive and whitespace-tolerant.

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

/// ASCII form of a name for e-mail addresses and URL slugs: `José Núñez` -> `jose-nunez`.
pub fn slug(value: &str, sep: char) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        let mapped = match c {
            'á' | 'à' | 'ã' | 'â' | 'ä' | 'å' | 'Á' | 'Å' => 'a',
            'é' | 'è' | 'ê' | 'ë' | 'É' => 'e',
            'í' | 'ì' | 'î' | 'ï' | 'Î' => 'i',
            'ó' | 'ò' | 'õ' | 'ô' | 'ö' | 'ø' | 'Ö' | 'Ø' => 'o',
            'ú' | 'ù' | 'û' | 'ü' | 'Ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            'ł' | 'Ł' => 'l',
            'ý' => 'y',
            c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
            _ => sep,
        };
        if mapped == sep && (out.is_empty() || out.ends_with(sep)) {
            continue;
        }
        out.push(mapped);
    }
    while out.ends_with(sep) {
        out.pop();
    }
    out
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

    #[test]
    fn slugs_are_ascii() {
        assert_eq!(slug("José Núñez", '-'), "jose-nunez");
        assert_eq!(slug("O'Brien", '.'), "o.brien");
        assert_eq!(slug("Van der Berg", '.'), "van.der.berg");
        assert_eq!(slug("Łucja Søndergaard", '-'), "lucja-sondergaard");
    }
}
