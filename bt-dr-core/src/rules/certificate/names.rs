//! Host names in certificates: what counts as an FQDN, and RFC 6125 wildcard matching.

/// Whether `s` looks like a fully qualified domain name (as the vendor's certificate classes use
/// the term): dot-separated hostname labels with an alphabetic top label; a leading `*.` is allowed.
pub fn is_fqdn(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    let s = s.strip_prefix("*.").unwrap_or(s);
    let labels: Vec<&str> = s.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && labels
            .last()
            .is_some_and(|t| t.bytes().all(|b| b.is_ascii_alphabetic()))
}

/// Whether certificate name `pattern` covers `host`. A wildcard stands for exactly one whole
/// left-most label and needs at least two labels after it (`*.com` covers nothing).
///
/// ```
/// use bt_dr_core::certificate::name_matches;
/// assert!(name_matches("*.example.com", "bt-a.example.com"));
/// assert!(!name_matches("*.example.com", "example.com"));
/// assert!(!name_matches("*.example.com", "a.b.example.com"));
/// assert!(name_matches("Support.Example.com", "support.example.COM"));
/// ```
pub fn name_matches(pattern: &str, host: &str) -> bool {
    let p = pattern.trim_end_matches('.').to_ascii_lowercase();
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    if h.is_empty() || p.is_empty() {
        return false;
    }
    match p.strip_prefix("*.") {
        Some(rest) => {
            if rest.split('.').count() < 2 || rest.contains('*') {
                return false;
            }
            match h.split_once('.') {
                Some((first, hrest)) => !first.is_empty() && hrest == rest,
                None => false,
            }
        }
        None => !p.contains('*') && p == h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fqdn_detection() {
        assert!(is_fqdn("support.example.com"));
        assert!(is_fqdn("*.example.com"));
        assert!(!is_fqdn("bt-dr Fixture Root CA"));
        assert!(!is_fqdn("localhost"));
        assert!(!is_fqdn("10.0.0.1"));
        assert!(!is_fqdn("DigiCert Global G2 TLS RSA SHA256 2020 CA1"));
    }

    #[test]
    fn wildcards() {
        assert!(name_matches("*.example.com", "x.example.com"));
        assert!(!name_matches("*.com", "example.com"));
        assert!(!name_matches("x*.example.com", "xy.example.com"));
        assert!(!name_matches("*.example.com", ".example.com"));
        assert!(!name_matches("support.example.com", "bt-a.example.com"));
    }
}
