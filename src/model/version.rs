//! Image versions: a tag (`1.4.2`), a tag pinned to a digest
//! (`1.4.2@sha256:<64 hex digits>`) or a digest alone (`sha256:<64 hex
//! digits>`). Here are what the image reference and the `version` label
//! make of each, and, for a version the schema refused, what is wrong with
//! its digest. The grammar itself is the schema's (`$defs/version`).

/// The only digest algorithm accepted, as written before the hex digits.
const SHA256: &str = "sha256:";

/// Hex digits in a sha256 digest.
const DIGEST_LEN: usize = 64;

/// Hex digits of a digest the `version` label keeps when there is no tag:
/// as many as `docker images` shows.
const SHORT_DIGEST: usize = 12;

/// What follows the image repository in its reference: `:<tag>`,
/// `:<tag>@sha256:...`, or `@sha256:...` for a digest alone.
pub fn image_suffix(version: &str) -> String {
    if version.starts_with(SHA256) {
        format!("@{version}")
    } else {
        format!(":{version}")
    }
}

/// The value of the `version` labels: the tag, or, for a digest alone, its
/// first twelve hex digits (a label value cannot hold `@` or `:`).
pub fn version_label(version: &str) -> &str {
    match version.strip_prefix(SHA256) {
        Some(hex) => hex.get(..SHORT_DIGEST).unwrap_or(hex),
        None => version.split_once('@').map_or(version, |(tag, _)| tag),
    }
}

/// What is wrong with the digest of a version the schema refused, in words
/// for a hint; `None` when the version has no digest, or the trouble is
/// elsewhere (in the tag).
pub fn digest_problem(version: &str) -> Option<String> {
    let digest = match version.split_once('@') {
        Some((_, digest)) => digest,
        None if version.contains(':') => version,
        None => return None,
    };
    let Some(hex) = digest.strip_prefix(SHA256) else {
        let algorithm = digest.split(':').next().unwrap_or_default();
        return Some(if digest.contains(':') && !algorithm.is_empty() {
            format!("`{algorithm}` digests are not accepted, only `sha256`")
        } else {
            "a digest is written `sha256:` and its hex digits".to_string()
        });
    };
    if hex
        .chars()
        .any(|c| c.is_ascii_hexdigit() && c.is_ascii_uppercase())
        && hex.chars().all(|c| c.is_ascii_hexdigit())
    {
        return Some("the digest has uppercase hex digits; write them in lowercase".into());
    }
    if let Some(bad) = hex.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Some(format!(
            "the digest holds `{}`, which is not a hex digit",
            bad.escape_debug()
        ));
    }
    if hex.len() != DIGEST_LEN {
        return Some(format!(
            "the digest has {} hex digits; a sha256 digest has {DIGEST_LEN}",
            hex.len()
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "9b2e35a9e0f4b1c8d7a6f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";

    #[test]
    fn references_join_tags_with_a_colon_and_digests_with_an_at() {
        assert_eq!(image_suffix("1.4"), ":1.4");
        assert_eq!(
            image_suffix(&format!("1.4@sha256:{HEX}")),
            format!(":1.4@sha256:{HEX}")
        );
        assert_eq!(
            image_suffix(&format!("sha256:{HEX}")),
            format!("@sha256:{HEX}")
        );
    }

    #[test]
    fn the_label_is_the_tag_or_twelve_digits_of_the_digest() {
        assert_eq!(version_label("1.4"), "1.4");
        assert_eq!(version_label(&format!("1.4@sha256:{HEX}")), "1.4");
        assert_eq!(version_label(&format!("sha256:{HEX}")), "9b2e35a9e0f4");
    }

    #[test]
    fn bad_digests_are_explained() {
        let problem = |v: &str| digest_problem(v).unwrap_or_default();
        assert_eq!(
            problem("1.4@sha256:abc"),
            "the digest has 3 hex digits; a sha256 digest has 64"
        );
        assert_eq!(
            problem(&format!("sha256:{}", HEX.to_uppercase())),
            "the digest has uppercase hex digits; write them in lowercase"
        );
        assert_eq!(
            problem(&format!("1.4@sha512:{HEX}")),
            "`sha512` digests are not accepted, only `sha256`"
        );
        assert_eq!(
            problem("1.4@9b2e35a9e0f4"),
            "a digest is written `sha256:` and its hex digits"
        );
        assert_eq!(
            problem(&format!("sha256:{}g", &HEX[1..])),
            "the digest holds `g`, which is not a hex digit"
        );
        assert_eq!(digest_problem("1.4"), None);
        assert_eq!(digest_problem("bad tag"), None);
        assert_eq!(digest_problem(&format!("1.4@sha256:{HEX}")), None);
    }
}
