//! `[files]`: each file becomes a key of the service's ConfigMap, with `/`
//! stored as `_`, so two paths must not map to the same key.

use std::collections::BTreeSet;

use super::{ServiceCheck, key};
use crate::diag::{Code, Diagnostic};
use crate::model::file_key;

impl ServiceCheck<'_> {
    pub(super) fn files(&mut self) {
        let mut keys = BTreeSet::new();
        for path in self.svc.files.keys() {
            if !keys.insert(file_key(path)) {
                let d = Diagnostic::error(
                    Code::DuplicateName,
                    format!("file `{path}` collides with another file's ConfigMap key"),
                )
                .hint("paths are stored with `/` as `_`; rename one of the files");
                self.report(&[key("files"), key(path)], true, d);
            }
        }
    }
}
