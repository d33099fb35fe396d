//! Reading our cookies from a request, with the `cookie` crate's parser.
//!
//! A cookie of ours that comes twice is refused as a whole: a browser holds
//! one of each unless someone planted a second (a sibling subdomain setting
//! a `Domain=` cookie, or a cookie with a longer `Path`: "cookie tossing"),
//! and which one a server picks is not something to leave to chance.

use axum::http::{HeaderMap, header};
use axum_extra::extract::cookie::Cookie;

/// What the request holds under one cookie name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found<'a> {
    /// No such cookie.
    Absent,
    /// Exactly one, with this value.
    One(&'a str),
    /// More than one: none of them is used.
    Many,
}

impl<'a> Found<'a> {
    /// The value, if exactly one cookie came.
    pub fn value(self) -> Option<&'a str> {
        match self {
            Self::One(value) => Some(value),
            Self::Absent | Self::Many => None,
        }
    }

    /// Whether the name came at all (once or more).
    pub fn is_present(self) -> bool {
        self != Self::Absent
    }
}

/// Looks up cookie `name` in every `Cookie` header of `headers`. Pairs the
/// parser cannot read are skipped, as browsers skip them.
pub fn find<'a>(headers: &'a HeaderMap, name: &str) -> Found<'a> {
    let [found] = find_all(headers, [name]);
    found
}

/// [`find`] for several names, reading the headers once (the guard asks for
/// two cookies on every request).
pub fn find_all<'a, const N: usize>(headers: &'a HeaderMap, names: [&str; N]) -> [Found<'a>; N] {
    let mut found = [Found::Absent; N];
    let values = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok());
    for value in values {
        for cookie in Cookie::split_parse(value).flatten() {
            let Some(i) = names.iter().position(|name| *name == cookie.name()) else {
                continue;
            };
            found[i] = match (found[i], cookie.value_raw()) {
                (Found::Absent, Some(raw)) => Found::One(raw),
                (Found::Absent, None) => Found::Absent,
                _ => Found::Many,
            };
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    use super::*;

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for line in lines {
            map.append(header::COOKIE, HeaderValue::from_str(line).unwrap());
        }
        map
    }

    #[test]
    fn one_cookie_is_read_among_others() {
        let h = headers(&["theme=dark; authbridge_access=tok.en.sig; x=1"]);
        assert_eq!(find(&h, "authbridge_access"), Found::One("tok.en.sig"));
        assert_eq!(find(&h, "authbridge_refresh"), Found::Absent);
    }

    #[test]
    fn the_same_name_twice_is_refused_in_one_header_or_two() {
        let one = headers(&["authbridge_access=a; authbridge_access=b"]);
        let two = headers(&["authbridge_access=a", "authbridge_access=b"]);
        assert_eq!(find(&one, "authbridge_access"), Found::Many);
        assert_eq!(find(&two, "authbridge_access"), Found::Many);
        assert_eq!(find(&two, "authbridge_access").value(), None);
    }

    #[test]
    fn names_are_matched_exactly() {
        let h = headers(&["Authbridge_access=a; __Host-authbridge_access=b"]);
        assert_eq!(find(&h, "authbridge_access"), Found::Absent);
        assert_eq!(find(&h, "__Host-authbridge_access"), Found::One("b"));
    }

    #[test]
    fn several_names_are_read_at_once_each_as_alone() {
        let h = headers(&[
            "theme=dark; authbridge_had_session=1; authbridge_access=t",
            "authbridge_had_session=2",
        ]);
        let names = [
            "authbridge_access",
            "authbridge_had_session",
            "authbridge_refresh",
        ];
        assert_eq!(
            find_all(&h, names),
            [Found::One("t"), Found::Many, Found::Absent]
        );
        assert_eq!(find_all(&h, names), names.map(|name| find(&h, name)));
    }

    proptest! {
        #[test]
        fn any_cookie_header_is_read_without_panic(line in "[ -~]{0,300}") {
            if let Ok(value) = HeaderValue::from_str(&line) {
                let mut map = HeaderMap::new();
                map.insert(header::COOKIE, value);
                let found = find(&map, "authbridge_access");
                if let Found::One(v) = found {
                    prop_assert!(line.contains(v));
                }
                let [access, marker] = find_all(&map, ["authbridge_access", "authbridge_had_session"]);
                prop_assert_eq!(access, found);
                prop_assert_eq!(marker, find(&map, "authbridge_had_session"));
            }
        }
    }
}
