//! Raw Kubernetes objects (`[objects]`): a Secret may live in git only
//! encrypted with SOPS, which Flux decrypts on apply, so every value of its
//! `data` and `stringData` must be `ENC[...]`.

use super::{ServiceCheck, key};
use crate::diag::{Code, Diagnostic};

impl ServiceCheck<'_> {
    pub(super) fn objects(&mut self) {
        for (name, object) in &self.svc.objects {
            if object.get("kind").and_then(|k| k.as_str()) != Some("Secret") {
                continue;
            }
            // A Secret may live in git only encrypted (SOPS, which Flux
            // decrypts on apply): every value must be `ENC[...]`.
            for field in ["data", "stringData"] {
                let Some(values) = object.get(field).and_then(|v| v.as_object()) else {
                    continue;
                };
                for (k, v) in values {
                    if v.as_str().is_some_and(|s| s.starts_with("ENC[")) {
                        continue;
                    }
                    let d = Diagnostic::error(
                        Code::SecretLiteral,
                        format!("`objects.{name}.{field}.{k}` is a secret value in clear"),
                    )
                    .hint("encrypt it with SOPS (Flux decrypts it on apply), or create the Secret outside git (SealedSecret, ExternalSecret) and reference it");
                    self.report(&[key("objects"), key(name), key(field), key(k)], false, d);
                }
            }
        }
    }
}
