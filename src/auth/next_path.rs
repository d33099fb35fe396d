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
