pub mod blob;
pub mod keys;
pub mod server;
pub mod sign;
pub mod verify;

use std::collections::BTreeMap;

use anyhow::bail;

/// Parses repeated `-a KEY=VALUE` flags.
pub fn parse_annotations(raw: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for a in raw {
        let Some((k, v)) = a.split_once('=') else {
            bail!("annotation {a:?} is not KEY=VALUE");
        };
        if k.is_empty() {
            bail!("annotation {a:?} has an empty key");
        }
        out.insert(k.to_owned(), v.to_owned());
    }
    Ok(out)
}
