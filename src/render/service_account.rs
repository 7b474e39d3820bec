//! The ServiceAccount, when `service_account = true` asks for one named after
//! the service, and which account the pods run as.
//!
//! An existing account (`service_account = "name"`) is only referred to, and
//! roles and bindings are not rendered: those are raw `objects`.

use k8s_openapi::api::core::v1 as core;

use super::{Object, Scope};
use crate::model::AccountRef;

pub(super) fn render(scope: &Scope<'_>, out: &mut Vec<Object>) {
    if let Some(AccountRef::Create(true)) = scope.svc.service_account {
        out.push(scope.service_account());
    }
}

impl Scope<'_> {
    fn service_account(&self) -> Object {
        let sa = core::ServiceAccount {
            metadata: self.meta(self.cx.name),
            ..Default::default()
        };
        Object::new(&sa, self.cx.name, self.ns())
    }

    /// The pods' `serviceAccountName`: the created account or the named one.
    pub(super) fn service_account_name(&self) -> Option<String> {
        match &self.svc.service_account {
            Some(AccountRef::Create(true)) => Some(self.cx.name.to_string()),
            Some(AccountRef::Existing(name)) => Some(name.clone()),
            _ => None,
        }
    }
}
