//! Parsing of `WWW-Authenticate` challenges (RFC 7235), as registries send them:
//! `Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull"`.
//!
//! The header is untrusted input: the parser accepts anything, never panics,
//! and returns whatever challenges it could make out.

use std::collections::BTreeMap;

/// One challenge: an auth scheme and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The scheme, lowercased (`bearer`, `basic`).
    pub scheme: String,
    /// Parameters by lowercased name; the first occurrence of a name wins.
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    /// A parameter by (case-insensitive) name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// Whether this is a `Bearer` challenge.
    pub fn is_bearer(&self) -> bool {
        self.scheme == "bearer"
    }

    /// Whether this is a `Basic` challenge.
    pub fn is_basic(&self) -> bool {
        self.scheme == "basic"
    }
}

/// All challenges in one header value.
pub fn parse(header: &str) -> Vec<Challenge> {
    let chars: Vec<char> = header.chars().collect();
    let mut p = Parser {
        chars: &chars,
        pos: 0,
    };
    let mut out: Vec<Challenge> = Vec::new();
    loop {
        p.skip(|c| c.is_whitespace() || c == ',');
        if p.at_end() {
            break;
        }
        let scheme = p.token();
        if scheme.is_empty() {
            // Not a token character (a stray quote, '=' …): skip it.
            p.pos += 1;
            continue;
        }
        p.skip(char::is_whitespace);
        if p.peek() == Some('=') {
            // `name=value` where a scheme was expected: a parameter that
            // belongs to the previous challenge after a stray comma.
            p.pos += 1;
            let value = p.value();
            if let Some(last) = out.last_mut() {
                last.params
                    .entry(scheme.to_ascii_lowercase())
                    .or_insert(value);
            }
            continue;
        }
        let mut challenge = Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params: BTreeMap::new(),
        };
        p.params(&mut challenge.params);
        out.push(challenge);
    }
    out
}

/// The challenge to answer: Bearer preferred over Basic, others ignored.
pub fn preferred(header: &str) -> Option<Challenge> {
    let all = parse(header);
    let bearer = all.iter().position(Challenge::is_bearer);
    let basic = all.iter().position(Challenge::is_basic);
    bearer.or(basic).and_then(|i| all.into_iter().nth(i))
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip(&mut self, pred: impl Fn(char) -> bool) {
        while self.peek().is_some_and(&pred) {
            self.pos += 1;
        }
    }

    /// RFC 7230 `token`.
    fn token(&mut self) -> String {
        let start = self.pos;
        self.skip(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c));
        self.chars
            .get(start..self.pos)
            .unwrap_or_default()
            .iter()
            .collect()
    }

    /// Parameters after a scheme, up to the start of the next challenge.
    fn params(&mut self, params: &mut BTreeMap<String, String>) {
        loop {
            let save = self.pos;
            self.skip(|c| c.is_whitespace() || c == ',');
            let name = self.token();
            if name.is_empty() {
                // A token68 credential blob or junk: consume up to the next comma.
                if self.peek().is_some_and(|c| c != ',' && !c.is_whitespace()) {
                    self.skip(|c| c != ',');
                    continue;
                }
                return;
            }
            self.skip(char::is_whitespace);
            if self.peek() != Some('=') {
                // A bare token: the next challenge's scheme (or a token68).
                self.pos = save;
                return;
            }
            self.pos += 1;
            let value = self.value();
            params.entry(name.to_ascii_lowercase()).or_insert(value);
        }
    }

    /// A quoted string (with `\` escapes) or a token; an unterminated quoted
    /// string runs to the end of the header.
    fn value(&mut self) -> String {
        self.skip(char::is_whitespace);
        if self.peek() != Some('"') {
            let start = self.pos;
            // Be generous: token68-ish values like `abc==` and '/' in URLs.
            self.skip(|c| c != ',' && !c.is_whitespace());
            return self
                .chars
                .get(start..self.pos)
                .unwrap_or_default()
                .iter()
                .collect();
        }
        self.pos += 1;
        let mut out = String::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                '"' => break,
                '\\' => {
                    if let Some(escaped) = self.peek() {
                        out.push(escaped);
                        self.pos += 1;
                    }
                }
                _ => out.push(c),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn registry_bearer() {
        let c = parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/debian:pull""#,
        );
        assert_eq!(c.len(), 1);
        assert!(c[0].is_bearer());
        assert_eq!(c[0].param("realm"), Some("https://auth.docker.io/token"));
        assert_eq!(c[0].param("Service"), Some("registry.docker.io"));
        assert_eq!(c[0].param("scope"), Some("repository:library/debian:pull"));
    }

    #[test]
    fn quoting_and_spacing() {
        let c = parse(
            r#"  bearer   Realm = "https://a/t?x=1,y=2" , service=reg,scope="repository:a:pull,push", error="insufficient_scope" "#,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].param("realm"), Some("https://a/t?x=1,y=2"));
        assert_eq!(c[0].param("service"), Some("reg"));
        assert_eq!(c[0].param("scope"), Some("repository:a:pull,push"));
        assert_eq!(c[0].param("error"), Some("insufficient_scope"));

        let c = parse(r#"Basic realm="say \"hi\" \\ there""#);
        assert!(c[0].is_basic());
        assert_eq!(c[0].param("realm"), Some(r#"say "hi" \ there"#));
    }

    #[test]
    fn multiple_challenges() {
        let c = parse(
            r#"Basic realm="r1", Bearer realm="https://t", service="s", Negotiate abc==, Digest nonce="n""#,
        );
        let schemes: Vec<_> = c.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["basic", "bearer", "negotiate", "digest"]);
        assert_eq!(c[1].param("service"), Some("s"));
        assert_eq!(c[3].param("nonce"), Some("n"));
        let p = preferred(r#"Basic realm="r1", Bearer realm="https://t""#).unwrap();
        assert!(p.is_bearer());
        assert!(preferred(r#"Basic realm="x""#).unwrap().is_basic());
        assert!(preferred("Negotiate").is_none());
    }

    #[test]
    fn malformed_inputs() {
        assert!(parse("").is_empty());
        assert!(parse(",,,  ,").is_empty());
        let c = parse(r#"Bearer realm="unterminated"#);
        assert_eq!(c[0].param("realm"), Some("unterminated"));
        let c = parse(r#"Bearer realm=, service="#);
        assert_eq!(c[0].param("realm"), Some(""));
        let c = parse(r#"Bearer realm="a" realm="b""#);
        assert_eq!(c[0].param("realm"), Some("a"));
        let c = parse("\"\"=Bearer");
        assert!(c.iter().all(|c| !c.scheme.is_empty()));
        let c = parse(r#"Bearer realm="x\"#);
        assert_eq!(c[0].param("realm"), Some("x"));
    }

    proptest! {
        #[test]
        fn never_panics(s in ".{0,200}") {
            let _ = parse(&s);
            let _ = preferred(&s);
        }

        #[test]
        fn never_panics_header_like(s in "[A-Za-z=\", \\\\:/]{0,100}") {
            for c in parse(&s) {
                prop_assert!(!c.scheme.is_empty());
            }
        }

        #[test]
        fn quoted_values_round_trip(realm in "[^\\x00]{0,40}", service in "[a-z.]{1,20}") {
            let quoted: String = realm.chars().flat_map(|c| match c {
                '"' | '\\' => vec!['\\', c],
                c => vec![c],
            }).collect();
            let header = format!("Bearer realm=\"{quoted}\",service={service}");
            let c = preferred(&header).unwrap();
            prop_assert_eq!(c.param("realm"), Some(realm.as_str()));
            prop_assert_eq!(c.param("service"), Some(service.as_str()));
        }
    }
}
