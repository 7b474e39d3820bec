//! `[config]`: its values go into a ConfigMap, which is not secret, so a key
//! that looks like a secret must come from a Secret instead.

use super::env::looks_secret;
use super::{ServiceCheck, key};
use crate::diag::{Code, Diagnostic};
use crate::model;

impl ServiceCheck<'_> {
    pub(super) fn config(&mut self) {
        for (k, v) in &self.svc.config {
            if let model::Scalar::String(_) = v {
                if looks_secret(k) {
                    let d = Diagnostic::error(Code::SecretLiteral, format!("config key `{k}` looks like a secret"))
                        .hint(format!("ConfigMaps are not secret; reference a Secret from `[env]`: `{k} = {{ secret = \"<name>\", key = \"<key>\" }}`"));
                    self.report(&[key("config"), key(k)], true, d);
                }
            }
        }
    }
}
