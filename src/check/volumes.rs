//! Volumes and mounts: exactly one source per volume, unique names (and not
//! the reserved `manifold-files`), and every mount of a container or init
//! container naming a declared volume.

use super::{ServiceCheck, key, unknown_reference};
use crate::diag::{Code, Diagnostic};
use crate::input::tree::Step;

impl ServiceCheck<'_> {
    pub(super) fn volumes(&mut self) {
        let svc = self.svc;
        let mut names: Vec<&str> = Vec::new();
        for (i, v) in svc.volumes.iter().enumerate() {
            let at = vec![key("volumes"), Step::Index(i)];
            let sources = [
                v.empty_dir.is_some(),
                v.config_map.is_some(),
                v.secret.is_some(),
                v.claim.is_some(),
                v.host_path.is_some(),
                v.persistent.is_some(),
            ]
            .iter()
            .filter(|x| **x)
            .count();
            if sources != 1 {
                let d = Diagnostic::error(Code::InvalidValue, format!("volume `{}` needs exactly one of `empty_dir`, `config_map`, `secret`, `claim`, `host_path` and `persistent`, found {sources}", v.name))
                    .hint("e.g. `empty_dir = {}` for scratch space");
                self.report(&at, true, d);
            }
            if names.contains(&v.name.as_str()) || v.name == "manifold-files" {
                let d = Diagnostic::error(
                    Code::DuplicateName,
                    format!("volume name `{}` is used twice", v.name),
                )
                .hint("give each volume a unique name");
                let mut name_at = at.clone();
                name_at.push(key("name"));
                self.report(&name_at, false, d);
            }
            names.push(&v.name);
        }
        for (ci, c) in svc
            .containers
            .iter()
            .chain(svc.init_containers.iter())
            .enumerate()
        {
            let (list, idx) = if ci < svc.containers.len() {
                ("containers", ci)
            } else {
                ("init_containers", ci - svc.containers.len())
            };
            for (mi, m) in c.mounts.iter().enumerate() {
                if !names.contains(&m.volume.as_str()) {
                    let d = unknown_reference(
                        "volume",
                        &m.volume,
                        &names,
                        "mounts name a volume from `[[volumes]]`",
                    );
                    self.report(
                        &[
                            key(list),
                            Step::Index(idx),
                            key("mounts"),
                            Step::Index(mi),
                            key("volume"),
                        ],
                        false,
                        d,
                    );
                }
            }
        }
    }
}
