//! Security settings against the service's profile (`security.profile`):
//! a setting the profile forbids is an error whose hint names a profile
//! that allows it; `privileged` with `allow_privilege_escalation = false`,
//! which the API server refuses, is an error; and containers that must run
//! as non-root with no numeric user are a warning, since the kubelet starts
//! them only if their image's USER is a non-zero number (a name cannot be
//! checked).
//!
//! What each profile writes and forbids is `model::Profile`'s; this file
//! only finds the keys.

use super::{ServiceCheck, key};
use crate::diag::{Code, Diagnostic};
use crate::input::tree::Step;
use crate::model::{Profile, Service, Setting};

/// The explicit settings of one `security` table: the service's or a
/// container's, at `path`.
struct Written<'a> {
    path: Vec<Step>,
    privileged: Option<bool>,
    run_as_non_root: Option<bool>,
    run_as_user: Option<i64>,
    allow_privilege_escalation: Option<bool>,
    capabilities: Option<&'a Vec<String>>,
}

/// The service's `security` and each container's.
fn written(svc: &Service) -> Vec<Written<'_>> {
    let s = &svc.security;
    let mut all = vec![Written {
        path: vec![key("security")],
        privileged: s.privileged,
        run_as_non_root: s.run_as_non_root,
        run_as_user: s.run_as_user,
        allow_privilege_escalation: s.allow_privilege_escalation,
        capabilities: s.capabilities.as_ref(),
    }];
    for (list, containers) in [
        ("containers", &svc.containers),
        ("init_containers", &svc.init_containers),
    ] {
        for (i, c) in containers.iter().enumerate() {
            let s = &c.security;
            all.push(Written {
                path: vec![key(list), Step::Index(i), key("security")],
                privileged: s.privileged,
                run_as_non_root: s.run_as_non_root,
                run_as_user: s.run_as_user,
                allow_privilege_escalation: s.allow_privilege_escalation,
                capabilities: s.capabilities.as_ref(),
            });
        }
    }
    all
}

impl ServiceCheck<'_> {
    pub(super) fn security(&mut self) {
        let profile = self.svc.security.profile.unwrap_or_default();
        for written in written(self.svc) {
            self.against_profile(profile, &written);
        }
        self.host_paths(profile);
        self.privileged_escalation();
        self.non_root_user(profile);
    }

    /// Each setting of `written` that `profile` forbids.
    fn against_profile(&mut self, profile: Profile, written: &Written<'_>) {
        let mut found: Vec<(Vec<Step>, String, Setting<'_>)> = Vec::new();
        let at = |k: &str| {
            let mut path = written.path.clone();
            path.push(key(k));
            path
        };
        if written.privileged == Some(true) {
            found.push((
                at("privileged"),
                "`privileged = true`".into(),
                Setting::Privileged,
            ));
        }
        if written.run_as_non_root == Some(false) {
            found.push((
                at("run_as_non_root"),
                "`run_as_non_root = false`".into(),
                Setting::Root,
            ));
        }
        if written.run_as_user == Some(0) {
            found.push((
                at("run_as_user"),
                "`run_as_user = 0` (root)".into(),
                Setting::Root,
            ));
        }
        if written.allow_privilege_escalation == Some(true) {
            let what = "`allow_privilege_escalation = true`".into();
            found.push((at("allow_privilege_escalation"), what, Setting::Escalation));
        }
        for (j, c) in written.capabilities.into_iter().flatten().enumerate() {
            let mut path = at("capabilities");
            path.push(Step::Index(j));
            found.push((path, format!("capability `{c}`"), Setting::Capability(c)));
        }
        for (path, what, setting) in found {
            let Err(needs) = profile.allows(setting) else {
                continue;
            };
            let d = Diagnostic::error(
                Code::SecurityProfile,
                format!("{what} is not allowed by {}", self.profile_words(profile)),
            )
            .hint(format!(
                "set `security.profile = \"{}\"`, which allows it, or remove it",
                needs.as_str()
            ));
            self.report(&path, false, d);
        }
    }

    /// `host_path` volumes, which the baseline level already forbids: they
    /// give the pod the node's own files.
    fn host_paths(&mut self, profile: Profile) {
        for (i, volume) in self.svc.volumes.iter().enumerate() {
            if volume.host_path.is_none() {
                continue;
            }
            let Err(needs) = profile.allows(Setting::HostPath) else {
                continue;
            };
            let d = Diagnostic::error(
                Code::SecurityProfile,
                format!(
                    "`host_path` volume `{}` is not allowed by {}",
                    volume.name,
                    self.profile_words(profile)
                ),
            )
            .hint(format!(
                "set `security.profile = \"{}\"`, which allows it, or use another volume",
                needs.as_str()
            ));
            self.report(
                &[key("volumes"), Step::Index(i), key("host_path")],
                false,
                d,
            );
        }
    }

    /// "security profile `restricted`", and where the profile was set when
    /// it is not the service file's choice.
    fn profile_words(&self, profile: Profile) -> String {
        let path = [key("security"), key("profile")];
        let env = self.env.name;
        let whose = match self.tree.at(&path) {
            None => return format!("the default security profile `{}`", profile.as_str()),
            Some(n) if n.origin.file == self.layers.service => String::new(),
            Some(n) if Some(n.origin.file) == self.layers.overlay => {
                format!(" (set by the overlay in `{env}`)")
            }
            Some(_) => format!(" (set by the `[defaults]` of `{env}`)"),
        };
        format!("security profile `{}`{whose}", profile.as_str())
    }

    /// A privileged container cannot be denied privilege escalation: the
    /// API server refuses the pair.
    fn privileged_escalation(&mut self) {
        let s = &self.svc.security;
        let mut pairs = vec![(
            vec![key("security")],
            s.privileged,
            s.allow_privilege_escalation,
        )];
        for (list, containers) in [
            ("containers", &self.svc.containers),
            ("init_containers", &self.svc.init_containers),
        ] {
            for (i, c) in containers.iter().enumerate() {
                let own = &c.security;
                let base = if own.allow_privilege_escalation.is_some() {
                    vec![key(list), Step::Index(i), key("security")]
                } else {
                    vec![key("security")]
                };
                let privileged = own.privileged.or(s.privileged);
                let escalation = own
                    .allow_privilege_escalation
                    .or(s.allow_privilege_escalation);
                pairs.push((base, privileged, escalation));
            }
        }
        for (mut path, privileged, escalation) in pairs {
            if privileged == Some(true) && escalation == Some(false) {
                path.push(key("allow_privilege_escalation"));
                let d = Diagnostic::error(
                    Code::InvalidValue,
                    "`allow_privilege_escalation = false` contradicts `privileged = true`: the API server refuses the pod",
                )
                .hint("remove `allow_privilege_escalation`: a privileged container can always gain privileges");
                self.report(&path, false, d);
            }
        }
    }

    /// The containers that must run as non-root, by the profile or their
    /// settings, and have no numeric user: one warning for the service, at
    /// what asks for non-root.
    fn non_root_user(&mut self, profile: Profile) {
        let s = &self.svc.security;
        let pod_non_root = s.run_as_non_root.unwrap_or(profile.restricts());
        let mut names: Vec<&str> = Vec::new();
        // The key of the first side container that asks for non-root itself.
        let mut own_key: Option<Vec<Step>> = None;
        if pod_non_root && s.run_as_user.is_none() {
            names.push(self.svc.container_name.as_deref().unwrap_or(self.name));
        }
        for (list, containers) in [
            ("containers", &self.svc.containers),
            ("init_containers", &self.svc.init_containers),
        ] {
            for (i, c) in containers.iter().enumerate() {
                let own = &c.security;
                if !own.run_as_non_root.unwrap_or(pod_non_root)
                    || own.run_as_user.or(s.run_as_user).is_some()
                {
                    continue;
                }
                names.push(&c.name);
                if own.run_as_non_root == Some(true) && own_key.is_none() && !pod_non_root {
                    let at = [
                        key(list),
                        Step::Index(i),
                        key("security"),
                        key("run_as_non_root"),
                    ];
                    own_key = Some(at.to_vec());
                }
            }
        }
        let (containers, them) = match names.as_slice() {
            [] => return,
            [one] => (format!("container `{one}` runs"), "it only if its image's"),
            [init @ .., last] => {
                let init: Vec<String> = init.iter().map(|n| format!("`{n}`")).collect();
                (
                    format!("containers {} and `{last}` run", init.join(", ")),
                    "them only if their images'",
                )
            }
        };
        let or = if profile.restricts() && s.run_as_non_root.is_none() {
            "choose a profile that does not require non-root: `security.profile = \"baseline\"`"
        } else {
            "drop `run_as_non_root = true`"
        };
        let d = Diagnostic::warning(
            Code::RunAsUser,
            format!(
                "{containers} as non-root with no numeric user: the kubelet starts {them} USER is a number other than 0"
            ),
        )
        .hint(format!(
            "set `security.run_as_user` to the image's user id (a user name cannot be checked), or {or}"
        ));
        let at = own_key.unwrap_or_else(|| self.non_root_source());
        self.report(&at, true, d);
    }

    /// Where the warning of [`Self::non_root_user`] points for the pod: the
    /// key of the service's own files that asks for non-root, else its
    /// `[security]`, else its `image`.
    fn non_root_source(&self) -> Vec<Step> {
        let mut candidates = vec![vec![key("security"), key("profile")], vec![key("security")]];
        if self.svc.security.run_as_non_root == Some(true) {
            candidates.insert(0, vec![key("security"), key("run_as_non_root")]);
        }
        candidates
            .into_iter()
            .find(|path| {
                self.tree.at(path).is_some_and(|n| {
                    n.origin.file == self.layers.service
                        || Some(n.origin.file) == self.layers.overlay
                })
            })
            .unwrap_or_else(|| vec![key("image")])
    }
}
