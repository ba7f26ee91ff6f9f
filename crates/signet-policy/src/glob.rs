//! Image globs: which repositories a scope covers, and which of several
//! matching scopes is the most specific.
//!
//! A glob is matched against the repository of an image, without tag or
//! digest, as signet normalises it (`index.docker.io/library/nginx`,
//! `registry.example:5000/team/app`). Tags are not part of the match: the
//! policy decides about a manifest digest, and a tag is only a mutable name
//! for one.
//!
//! - `*` matches any run of characters within one path segment (not `/`);
//! - `**` matches any run of characters, `/` included (zero or more segments);
//! - everything else matches itself. `docker.io/` at the start is read as
//!   `index.docker.io/`, the name references normalise to.

use std::cmp::Ordering;
use std::fmt;

/// The longest glob accepted, in bytes.
pub const MAX_GLOB_LEN: usize = 512;

/// A parsed image glob.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageGlob {
    source: String,
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Token {
    Literal(String),
    /// `*`: within one segment.
    Star,
    /// `**`: across segments.
    DoubleStar,
}

/// Why a glob was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GlobError {
    /// Empty.
    #[error("empty image glob")]
    Empty,
    /// Too long.
    #[error("image glob is {0} bytes, longer than the limit of {MAX_GLOB_LEN}")]
    TooLong(usize),
    /// `***` or more.
    #[error("image glob {0:?}: more than two `*` in a row")]
    TooManyStars(String),
    /// A character no repository name contains.
    #[error("image glob {glob:?}: {found:?} cannot occur in a repository name")]
    BadCharacter {
        /// The glob.
        glob: String,
        /// The character.
        found: char,
    },
    /// A tag or digest in the glob.
    #[error(
        "image glob {0:?} names a tag or digest; globs match repositories (the policy decides about digests, whatever the tag)"
    )]
    TagOrDigest(String),
}

impl ImageGlob {
    /// Parses `glob`.
    pub fn parse(glob: &str) -> Result<Self, GlobError> {
        if glob.is_empty() {
            return Err(GlobError::Empty);
        }
        if glob.len() > MAX_GLOB_LEN {
            return Err(GlobError::TooLong(glob.len()));
        }
        if glob.contains('@') {
            return Err(GlobError::TagOrDigest(glob.to_owned()));
        }
        // A `:` is a port in the first segment, a tag anywhere after it.
        if let Some(slash) = glob.find('/')
            && glob[slash..].contains(':')
        {
            return Err(GlobError::TagOrDigest(glob.to_owned()));
        }
        if let Some(found) = glob.chars().find(|c| {
            !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '*'))
        }) {
            return Err(GlobError::BadCharacter {
                glob: glob.to_owned(),
                found,
            });
        }
        let normalised = match glob.strip_prefix("docker.io/") {
            Some(rest) => format!("index.docker.io/{rest}"),
            None => glob.to_owned(),
        };
        let mut tokens = Vec::new();
        let mut literal = String::new();
        let mut rest = normalised.as_str();
        while let Some(c) = rest.chars().next() {
            if c == '*' {
                let stars = rest.bytes().take_while(|b| *b == b'*').count();
                if stars > 2 {
                    return Err(GlobError::TooManyStars(glob.to_owned()));
                }
                if !literal.is_empty() {
                    tokens.push(Token::Literal(std::mem::take(&mut literal)));
                }
                tokens.push(if stars == 2 {
                    Token::DoubleStar
                } else {
                    Token::Star
                });
                rest = &rest[stars..];
            } else {
                literal.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        if !literal.is_empty() {
            tokens.push(Token::Literal(literal));
        }
        Ok(Self {
            source: glob.to_owned(),
            tokens,
        })
    }

    /// The glob as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the glob has no wildcard (it names one repository).
    pub fn is_exact(&self) -> bool {
        self.tokens.iter().all(|t| matches!(t, Token::Literal(_)))
    }

    /// Whether the glob uses `**`.
    pub fn has_double_star(&self) -> bool {
        self.tokens.iter().any(|t| matches!(t, Token::DoubleStar))
    }

    /// The glob with `docker.io/` normalised, as it is matched.
    pub fn normalised(&self) -> String {
        self.tokens
            .iter()
            .map(|t| match t {
                Token::Literal(s) => s.as_str(),
                Token::Star => "*",
                Token::DoubleStar => "**",
            })
            .collect()
    }

    /// Whether `repository` (`registry/path`, normalised) matches.
    ///
    /// Linear-time in practice: the matcher memoises (token, position) pairs,
    /// so no glob can make it backtrack exponentially.
    pub fn matches(&self, repository: &str) -> bool {
        let text = repository.as_bytes();
        // seen[t * (n + 1) + i]: token t at byte i already failed.
        let n = text.len();
        let mut failed = vec![false; (self.tokens.len() + 1) * (n + 1)];
        self.match_from(0, 0, text, &mut failed)
    }

    fn match_from(&self, t: usize, i: usize, text: &[u8], failed: &mut [bool]) -> bool {
        let n = text.len();
        let slot = t * (n + 1) + i;
        if failed.get(slot).copied().unwrap_or(true) {
            return false;
        }
        let ok = match self.tokens.get(t) {
            None => i == n,
            Some(Token::Literal(lit)) => {
                let lit = lit.as_bytes();
                text.get(i..i + lit.len()) == Some(lit)
                    && self.match_from(t + 1, i + lit.len(), text, failed)
            }
            Some(Token::Star) => {
                let mut j = i;
                loop {
                    if self.match_from(t + 1, j, text, failed) {
                        break true;
                    }
                    match text.get(j) {
                        Some(b'/') | None => break false,
                        Some(_) => j += 1,
                    }
                }
            }
            Some(Token::DoubleStar) => (i..=n).any(|j| self.match_from(t + 1, j, text, failed)),
        };
        if !ok && let Some(f) = failed.get_mut(slot) {
            *f = true;
        }
        ok
    }

    /// How specific the glob is, for choosing among several that match one
    /// image: a glob without wildcards beats every glob with one; then the
    /// longer literal prefix wins (`reg/team/app-*` over `reg/team/*`); then
    /// more literal characters; then fewer `**`, then fewer `*`.
    pub fn specificity(&self) -> Specificity {
        let mut prefix = 0;
        for t in &self.tokens {
            match t {
                Token::Literal(s) => prefix += s.len(),
                _ => break,
            }
        }
        let literal = self
            .tokens
            .iter()
            .map(|t| match t {
                Token::Literal(s) => s.len(),
                _ => 0,
            })
            .sum();
        let count = |want: &Token| self.tokens.iter().filter(|t| *t == want).count();
        Specificity {
            exact: self.is_exact(),
            prefix,
            literal,
            fewer_double_stars: usize::MAX - count(&Token::DoubleStar),
            fewer_stars: usize::MAX - count(&Token::Star),
        }
    }
}

impl fmt::Display for ImageGlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// A glob's rank among globs matching the same image; greater is more
/// specific. See [`ImageGlob::specificity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Specificity {
    exact: bool,
    prefix: usize,
    literal: usize,
    fewer_double_stars: usize,
    fewer_stars: usize,
}

/// Orders two globs by specificity (greater is more specific).
pub fn compare(a: &ImageGlob, b: &ImageGlob) -> Ordering {
    a.specificity().cmp(&b.specificity())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn g(s: &str) -> ImageGlob {
        ImageGlob::parse(s).unwrap()
    }

    #[test]
    fn single_and_double_stars() {
        let one = g("reg.example/team/*");
        assert!(one.matches("reg.example/team/app"));
        assert!(!one.matches("reg.example/team/app/sub"));
        assert!(!one.matches("reg.example/other/app"));
        // `*` may match nothing, as in a shell.
        assert!(one.matches("reg.example/team/"));
        let two = g("reg.example/team/**");
        assert!(two.matches("reg.example/team/app"));
        assert!(two.matches("reg.example/team/app/sub/deeper"));
        assert!(!two.matches("reg.example/teammate/app"));
        assert!(!two.matches("reg.example/team"));
        let mid = g("reg.example/**/app");
        assert!(mid.matches("reg.example/a/b/c/app"));
        assert!(mid.matches("reg.example//app"));
        assert!(!mid.matches("reg.example/a/b/c/app2"));
        let part = g("reg.example/team/app-*");
        assert!(part.matches("reg.example/team/app-web"));
        assert!(!part.matches("reg.example/team/web"));
        let port = g("127.0.0.1:5000/p/*");
        assert!(port.matches("127.0.0.1:5000/p/x"));
        assert!(g("**").matches("anything/at/all"));
        assert!(g("*.example/**").matches("reg.example/a/b"));
        assert!(!g("*.example/**").matches("a/reg.example/b"));
    }

    #[test]
    fn exact_globs_and_docker_hub() {
        let exact = g("reg.example/team/app");
        assert!(exact.is_exact());
        assert!(exact.matches("reg.example/team/app"));
        assert!(!exact.matches("reg.example/team/app2"));
        assert!(g("docker.io/library/*").matches("index.docker.io/library/nginx"));
        assert!(g("index.docker.io/library/*").matches("index.docker.io/library/nginx"));
    }

    #[test]
    fn refused_globs() {
        assert_eq!(ImageGlob::parse(""), Err(GlobError::Empty));
        assert!(matches!(
            ImageGlob::parse("reg/***"),
            Err(GlobError::TooManyStars(_))
        ));
        assert!(matches!(
            ImageGlob::parse("reg/app:v1"),
            Err(GlobError::TagOrDigest(_))
        ));
        assert!(matches!(
            ImageGlob::parse("reg/app@sha256:00"),
            Err(GlobError::TagOrDigest(_))
        ));
        assert!(matches!(
            ImageGlob::parse("reg/a?b"),
            Err(GlobError::BadCharacter { found: '?', .. })
        ));
        assert!(matches!(
            ImageGlob::parse(&"a".repeat(MAX_GLOB_LEN + 1)),
            Err(GlobError::TooLong(_))
        ));
    }

    #[test]
    fn most_specific_first() {
        let mut globs = [
            g("**"),
            g("reg/**"),
            g("reg/team/*"),
            g("reg/team/app-*"),
            g("reg/team/app"),
            g("reg/*/app"),
        ];
        globs.sort_by(|a, b| compare(b, a));
        let order: Vec<&str> = globs.iter().map(|g| g.as_str()).collect();
        assert_eq!(
            order,
            [
                "reg/team/app",
                "reg/team/app-*",
                "reg/team/*",
                "reg/*/app",
                "reg/**",
                "**"
            ]
        );
    }

    /// A straightforward backtracking matcher to compare against.
    fn reference(pattern: &[u8], text: &[u8]) -> bool {
        match pattern {
            [] => text.is_empty(),
            [b'*', b'*', rest @ ..] => (0..=text.len()).any(|k| reference(rest, &text[k..])),
            [b'*', rest @ ..] => {
                let seg = text.iter().position(|b| *b == b'/').unwrap_or(text.len());
                (0..=seg).any(|k| reference(rest, &text[k..]))
            }
            [c, rest @ ..] => text.first() == Some(c) && reference(rest, &text[1..]),
        }
    }

    proptest! {
        #[test]
        fn matcher_agrees_with_backtracking(
            pattern in "[ab/*]{0,10}",
            text in "[ab/]{0,12}",
        ) {
            prop_assume!(!pattern.contains("***"));
            let Ok(glob) = ImageGlob::parse(&pattern) else { return Ok(()) };
            prop_assert_eq!(glob.matches(&text), reference(pattern.as_bytes(), text.as_bytes()));
        }

        #[test]
        fn a_literal_glob_matches_only_itself(name in "[a-z0-9./_-]{1,40}", other in "[a-z0-9./_-]{1,40}") {
            let glob = ImageGlob::parse(&name).unwrap();
            prop_assert!(glob.matches(&name));
            prop_assert_eq!(glob.matches(&other), name == other);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = ImageGlob::parse(&s);
        }

        #[test]
        fn adversarial_globs_stay_fast(n in 1usize..30) {
            let glob = ImageGlob::parse(&"*a".repeat(n)).unwrap();
            let text = "a".repeat(200) + "b";
            prop_assert!(!glob.matches(&text));
        }
    }
}
