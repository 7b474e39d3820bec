//! The Gateway API kinds manifold knows: those of the CRDs vendored in
//! `schemas/gateway-api/`, as `source.json` lists them (written by
//! `scripts/refresh-gateway-api`).
//!
//! Their objects are custom resources and pass the Kubernetes schema check
//! unvalidated, like any other; the tests check the HTTPRoutes manifold
//! renders against the vendored CRD instead. What knowing the kinds adds is
//! that a kind of the group written with other capitals (`HttpRoute`, the
//! name of the Rust and Go types) is an error naming the right one, where the
//! API server would only say it has no such kind.

use std::sync::OnceLock;

use serde_json::Value as Json;

const SOURCE: &str = include_str!("../../schemas/gateway-api/source.json");

/// (group, kind) of every vendored CRD.
fn kinds() -> &'static [(String, String)] {
    static KINDS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    KINDS.get_or_init(|| {
        let source: Json = serde_json::from_str(SOURCE).expect("vendored source.json is JSON");
        let files = source["files"]
            .as_object()
            .expect("source.json lists files");
        let mut kinds: Vec<(String, String)> = files
            .values()
            .map(|f| {
                let field = |k: &str| f[k].as_str().unwrap_or_default().to_string();
                (field("group"), field("kind"))
            })
            .collect();
        kinds.sort();
        kinds
    })
}

/// The vendored kind that `kind` of `api_version`'s group is a miscapitalized
/// spelling of, if any.
pub(super) fn miscapitalized(api_version: &str, kind: &str) -> Option<&'static str> {
    let (group, _) = api_version.split_once('/')?;
    kinds()
        .iter()
        .find(|(g, k)| g == group && k != kind && k.eq_ignore_ascii_case(kind))
        .map(|(_, k)| k.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendored_crds_make_httproute_a_known_kind() {
        assert!(
            kinds()
                .iter()
                .any(|(g, k)| g == "gateway.networking.k8s.io" && k == "HTTPRoute")
        );
        let v1 = "gateway.networking.k8s.io/v1";
        assert_eq!(miscapitalized(v1, "HttpRoute"), Some("HTTPRoute"));
        assert_eq!(miscapitalized(v1, "HTTPRoute"), None);
        // Kinds of other channels or groups are not ours to judge.
        assert_eq!(miscapitalized(v1, "TCPRoute"), None);
        assert_eq!(miscapitalized("example.com/v1", "HttpRoute"), None);
    }
}
