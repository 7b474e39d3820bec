//! Raw Kubernetes objects (`[objects]`): a Secret may live in git only
//! encrypted with SOPS, which Flux decrypts on apply, so every value of its
//! `data` and `stringData` must be `ENC[...]`. [`clear_secret_values`] is
//! the rule; the objects of `manifests/` are held to it too.

use serde_json::Value as Json;

use super::{ServiceCheck, key};
use crate::diag::{Code, Diagnostic};

/// What to do instead of a secret value in clear.
pub(crate) const SECRET_HINT: &str = "encrypt it with SOPS (Flux decrypts it on apply), or create the Secret outside git (SealedSecret, ExternalSecret) and reference it";

/// The values of a Secret that are not encrypted with SOPS (`ENC[...]`), as
/// (`data` or `stringData`, key); none for any other kind.
pub(crate) fn clear_secret_values(object: &Json) -> Vec<(&'static str, &str)> {
    if object.get("kind").and_then(Json::as_str) != Some("Secret") {
        return Vec::new();
    }
    let mut clear = Vec::new();
    for field in ["data", "stringData"] {
        let Some(values) = object.get(field).and_then(Json::as_object) else {
            continue;
        };
        for (k, v) in values {
            if !v.as_str().is_some_and(|s| s.starts_with("ENC[")) {
                clear.push((field, k.as_str()));
            }
        }
    }
    clear
}

impl ServiceCheck<'_> {
    pub(super) fn objects(&mut self) {
        for (name, object) in &self.svc.objects {
            for (field, k) in clear_secret_values(object) {
                let d = Diagnostic::error(
                    Code::SecretLiteral,
                    format!("`objects.{name}.{field}.{k}` is a secret value in clear"),
                )
                .hint(SECRET_HINT);
                self.report(&[key("objects"), key(name), key(field), key(k)], false, d);
            }
        }
    }
}
