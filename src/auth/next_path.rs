//! The `?next=` target after login: local paths only (an open redirect would
//! let a phishing link bounce through our login to any site).

/// Longest `next` we keep; anything longer falls back to `/`.
pub const MAX_LEN: usize = 2048;

/// Returns `next` if it is a path on this site, and `/` otherwise.
///
/// Accepted: a single leading `/` followed by no second `/` or `\`, with no
/// backslash, whitespace or control character anywhere (browsers read
/// `/\host` and `\\host` as another host, and drop tabs and newlines), no
/// `.` or `..` segment (`/.//host` resolves to `//host`), at most [`MAX_LEN`]
/// bytes, ASCII only (real paths arrive percent-encoded), and not one of the
/// forms for visitors (`/login`, `/register`).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if is_local_path(path) => path.to_owned(),
        _ => "/".to_owned(),
    }
}

/// Like [`safe_next`], but also keeps an absolute `http(s)` URL on one of
/// `trusted` origins (`scheme://host[:port]`, exactly as configured in
/// `AUTHBRIDGE_REDIRECT_ORIGINS`): a peer service sends its visitors here
/// to log in and wants them back.
#[cfg(feature = "ssr")]
pub fn safe_next_to(next: Option<&str>, trusted: &[String]) -> String {
    match next {
        Some(path) if is_local_path(path) => path.to_owned(),
        Some(url) if on_trusted_origin(url, trusted) => url.to_owned(),
        _ => "/".to_owned(),
    }
}

#[cfg(feature = "ssr")]
fn on_trusted_origin(next: &str, trusted: &[String]) -> bool {
    if next.len() > MAX_LEN
        || !next.is_ascii()
        || next
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
    {
        return false;
    }
    let Ok(url) = url::Url::parse(next) else {
        return false;
    };
    let origin = url.origin().ascii_serialization();
    matches!(url.scheme(), "http" | "https")
        && url.username().is_empty()
        && url.password().is_none()
        && trusted
            .iter()
            .any(|t| t.trim_end_matches('/').eq_ignore_ascii_case(&origin))
}

fn is_local_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.len() <= MAX_LEN
        && bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/') | Some(b'\\'))
        // Real paths arrive percent-encoded; raw non-ASCII (bidi overrides,
        // bytes a browser would misread) comes only from crafted links.
        && path.is_ascii()
        && !path.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace())
        && !has_dot_segment(path)
        // The forms for visitors make no sense after logging in.
        && !path.starts_with("/login")
        && !path.starts_with("/register")
}

/// Whether the path part has a `.` or `..` segment, also percent-encoded.
fn has_dot_segment(path: &str) -> bool {
    let path_part = path.split(['?', '#']).next().unwrap_or_default();
    path_part.split('/').any(|segment| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    })
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[cfg(feature = "ssr")]
    #[test]
    fn absolute_urls_are_kept_only_on_trusted_origins() {
        use super::safe_next_to;
        let trusted = vec!["http://127.0.0.1:5001".to_owned()];
        for ok in ["http://127.0.0.1:5001/", "http://127.0.0.1:5001/page?x=1"] {
            assert_eq!(safe_next_to(Some(ok), &trusted), ok);
        }
        assert_eq!(safe_next_to(Some("/account"), &trusted), "/account");
        for bad in [
            "http://127.0.0.1:5002/",
            "https://127.0.0.1:5001/",
            "http://127.0.0.1:5001.evil.example/",
            "http://user:pw@127.0.0.1:5001/",
            "http://evil.example/?http://127.0.0.1:5001",
            "javascript://127.0.0.1:5001/%0aalert(1)",
            "http://127.0.0.1:5001/\r\nx",
        ] {
            assert_eq!(safe_next_to(Some(bad), &trusted), "/", "{bad:?}");
        }
        assert_eq!(safe_next_to(Some("http://127.0.0.1:5001/"), &[]), "/");
    }

    #[test]
    fn local_paths_are_kept() {
        for ok in [
            "/",
            "/account",
            "/a/b?c=d&e=f",
            "/search?q=%2F%2Fx",
            "/#frag",
        ] {
            assert_eq!(safe_next(Some(ok)), ok);
        }
    }

    #[test]
    fn anything_else_falls_back_to_root() {
        for bad in [
            "//evil.example",
            "https://evil.example/",
            "/\\evil.example",
            "\\\\evil.example",
            "evil.example",
            "javascript:alert(1)",
            "/ok\r\nSet-Cookie: x=y",
            "/\tevil",
            " /space",
            "",
            "/login?next=/login",
            "/.//evil.example",
            "/./",
            "/a/../..//evil.example",
            "/%2e%2E//evil.example",
            "/\u{e9}",
            "/\u{202e}moc.live",
            "/register?next=/",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(5000)))), "/");
    }
}
