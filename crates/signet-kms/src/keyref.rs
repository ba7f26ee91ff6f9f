use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::KmsError;

/// Where a key lives. Parsed from the string a user passes to `--key`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyRef {
    /// A PEM file on disk.
    File(PathBuf),
    /// PEM text in an environment variable (`env://VAR`).
    Env(String),
    /// A Vault transit key (`hashivault://NAME`).
    VaultTransit {
        /// The transit key name.
        name: String,
    },
    /// A cosign key pair in a Vault KV v2 secret (`vault-kv://MOUNT/PATH[?version=N]`),
    /// with fields `private_key`, `public_key` and optionally `password`.
    VaultKv {
        /// The KV v2 mount (`kv`, `secret`).
        mount: String,
        /// The secret path under the mount (`golemtrust/cosign`).
        path: String,
        /// A specific secret version; the latest when `None`.
        version: Option<u64>,
    },
}

/// Field names in a KV secret holding a cosign key pair.
pub(crate) const KV_PRIVATE_KEY: &str = "private_key";
pub(crate) const KV_PUBLIC_KEY: &str = "public_key";

impl FromStr for KeyRef {
    type Err = KmsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| KmsError::InvalidReference {
            reference: s.to_owned(),
            reason: reason.to_owned(),
        };
        if s.is_empty() {
            return Err(invalid("empty"));
        }
        if let Some(var) = s.strip_prefix("env://") {
            if var.is_empty() || !var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(invalid("expected env://VARIABLE_NAME"));
            }
            return Ok(Self::Env(var.to_owned()));
        }
        if let Some(name) = s.strip_prefix("hashivault://") {
            if name.is_empty() || name.contains('/') || name.contains('?') {
                return Err(invalid(
                    "expected hashivault://KEY_NAME (a transit key name)",
                ));
            }
            return Ok(Self::VaultTransit {
                name: name.to_owned(),
            });
        }
        if let Some(rest) = s.strip_prefix("vault-kv://") {
            let (location, query) = match rest.split_once('?') {
                Some((l, q)) => (l, Some(q)),
                None => (rest, None),
            };
            let (mount, path) = location
                .split_once('/')
                .filter(|(m, p)| !m.is_empty() && !p.is_empty() && !p.ends_with('/'))
                .ok_or_else(|| {
                    invalid("expected vault-kv://MOUNT/PATH, e.g. vault-kv://kv/team/cosign")
                })?;
            let mut version = None;
            if let Some(query) = query {
                let v = query
                    .strip_prefix("version=")
                    .ok_or_else(|| invalid("the only query parameter is version=N"))?;
                version = Some(
                    v.parse::<u64>()
                        .ok()
                        .filter(|v| *v > 0)
                        .ok_or_else(|| invalid("version must be a positive integer"))?,
                );
            }
            if path
                .split('/')
                .any(|seg| seg.is_empty() || seg == "." || seg == "..")
            {
                return Err(invalid("path segments must be non-empty and not . or .."));
            }
            return Ok(Self::VaultKv {
                mount: mount.to_owned(),
                path: path.to_owned(),
                version,
            });
        }
        if let Some((scheme, _)) = s.split_once("://") {
            return Err(invalid(&format!(
                "unsupported scheme {scheme}:// (supported: a file path, env://, hashivault://, vault-kv://)"
            )));
        }
        Ok(Self::File(PathBuf::from(s)))
    }
}

impl fmt::Display for KeyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => write!(f, "{}", p.display()),
            Self::Env(v) => write!(f, "env://{v}"),
            Self::VaultTransit { name } => write!(f, "hashivault://{name}"),
            Self::VaultKv {
                mount,
                path,
                version,
            } => {
                write!(f, "vault-kv://{mount}/{path}")?;
                if let Some(v) = version {
                    write!(f, "?version={v}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_scheme() {
        assert_eq!(
            "cosign.key".parse::<KeyRef>().unwrap(),
            KeyRef::File("cosign.key".into())
        );
        assert_eq!(
            "env://COSIGN_KEY".parse::<KeyRef>().unwrap(),
            KeyRef::Env("COSIGN_KEY".into())
        );
        assert_eq!(
            "hashivault://release".parse::<KeyRef>().unwrap(),
            KeyRef::VaultTransit {
                name: "release".into()
            }
        );
        assert_eq!(
            "vault-kv://kv/golemtrust/cosign-2027?version=3"
                .parse::<KeyRef>()
                .unwrap(),
            KeyRef::VaultKv {
                mount: "kv".into(),
                path: "golemtrust/cosign-2027".into(),
                version: Some(3)
            }
        );
        for s in [
            "vault-kv://kv/golemtrust/cosign",
            "hashivault://release",
            "env://X",
            "a/b.key",
        ] {
            assert_eq!(s.parse::<KeyRef>().unwrap().to_string(), s);
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(s in "(env://|hashivault://|vault-kv://|[a-z]{1,6}://)?[a-zA-Z0-9_/.?=-]{0,40}") {
            if let Ok(k) = s.parse::<KeyRef>() {
                proptest::prop_assert_eq!(k.to_string().parse::<KeyRef>().unwrap(), k);
            }
        }
    }

    #[test]
    fn rejects_bad_references() {
        for s in [
            "",
            "env://",
            "env://A-B",
            "hashivault://",
            "hashivault://a/b",
            "vault-kv://kv",
            "vault-kv://kv/",
            "vault-kv://kv/a/../b",
            "vault-kv://kv/a?version=0",
            "vault-kv://kv/a?foo=1",
            "awskms://x",
        ] {
            assert!(s.parse::<KeyRef>().is_err(), "{s}");
        }
    }
}
