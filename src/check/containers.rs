//! Extra containers and init containers: names unique (the main container
//! is named after the service, or `container_name`), `restart` on init containers only, and the
//! resources and environment variables of each.

use super::{ServiceCheck, key};
use crate::diag::{Code, Diagnostic};
use crate::input::tree::Step;

impl ServiceCheck<'_> {
    pub(super) fn containers(&mut self) {
        let svc = self.svc;
        let main = svc.container_name.as_deref().unwrap_or(self.name);
        let mut names: Vec<String> = vec![main.to_string()];
        for (list, containers) in [
            ("containers", &svc.containers),
            ("init_containers", &svc.init_containers),
        ] {
            for (i, c) in containers.iter().enumerate() {
                let at = vec![key(list), Step::Index(i)];
                if names.contains(&c.name) {
                    let d = Diagnostic::error(Code::DuplicateName, format!("container name `{}` is used twice", c.name))
                        .hint("the main container is named after the service unless `container_name` is set; give each container a unique name");
                    let mut name_at = at.clone();
                    name_at.push(key("name"));
                    self.report(&name_at, false, d);
                }
                names.push(c.name.clone());
                if c.restart.is_some() && list == "containers" {
                    let d = Diagnostic::error(
                        Code::WrongKind,
                        "`restart` applies to init containers only",
                    )
                    .hint("move this container to `init_containers` to make it a native sidecar");
                    let mut r = at.clone();
                    r.push(key("restart"));
                    self.report(&r, true, d);
                }
                self.resources_at(&at, &c.resources);
                self.container_env(&at, c);
            }
        }
    }
}
