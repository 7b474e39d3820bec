//! `[security]` from the input's security contexts: the profile that
//! reproduces them, and the keys for what the profile does not write.
//!
//! Each profile is simulated: what manifold renders with it (the
//! profile's defaults where no key says otherwise, the environment's
//! `[defaults.security]` under the service's keys, a side or init container
//! inheriting the service's keys unless it has its own) against what the
//! input has. A profile must accept every setting of the input (its rules,
//! as the checks apply them) and add no field the input lacks: a patch can
//! set a value but never remove one. So no profile adds `runAsNonRoot` to a
//! pod that ran as root. Of those, the one whose keys leave the fewest
//! values to patches wins, then the one with the fewest keys, then the most
//! restrictive (`hardened`, `restricted`, `baseline`, `privileged`). Values
//! no key writes (a seccomp profile under `baseline`, a main container's own
//! `runAsUser`) come from the derived patches; when every profile adds
//! something (the environment's defaults set a key the input lacks), the
//! one that adds least is taken and the round trip reports the rest.

use serde_json::Value as Json;

use super::group::items;
use super::map_container::strings;
use super::toml::{Table, Toml};
use crate::model::{Profile, Security, Setting};

/// The profiles, most restrictive first.
const PROFILES: [Profile; 4] = [
    Profile::Hardened,
    Profile::Restricted,
    Profile::Baseline,
    Profile::Privileged,
];

/// The `[security]` of a service and each side and init container's
/// `security`.
pub struct Plan {
    pub profile: Profile,
    pub service: Table,
    /// The side containers' (after the main one), in order.
    pub containers: Vec<Table>,
    pub init_containers: Vec<Table>,
}

/// The plan for a pod spec, given the environment's `[defaults.security]`.
pub fn plan(spec: &Json, defaults: &Security) -> Plan {
    let pod = Pod::of(spec);
    let settings = settings(spec, &pod);
    let attempts: Vec<(Profile, Attempt)> = PROFILES
        .iter()
        .filter(|p| settings.iter().all(|s| p.allows(*s).is_ok()))
        .map(|p| (*p, attempt(*p, &pod, defaults)))
        .collect();
    let least = attempts
        .iter()
        .map(|(_, a)| a.added)
        .min()
        .unwrap_or_default();
    // `min_by_key` keeps the first of equals: the most restrictive.
    let chosen = attempts
        .into_iter()
        .filter(|(_, a)| a.added == least)
        .min_by_key(|(_, a)| (a.patched, a.keys()));
    let (profile, a) = chosen.unwrap_or_else(|| {
        (
            Profile::Privileged,
            attempt(Profile::Privileged, &pod, defaults),
        )
    });
    let mut service = Table::new();
    service.set("profile", profile.as_str());
    for (k, v) in a.service {
        service.set(&k, v);
    }
    let sides = spec["containers"]
        .as_array()
        .map_or(0, |c| c.len().saturating_sub(1));
    let mut containers = a.containers;
    let init_containers = containers.split_off(sides.min(containers.len()));
    Plan {
        profile,
        service,
        containers,
        init_containers,
    }
}

/// The words above `[security]` for a profile.
pub fn comment(profile: Profile) -> &'static str {
    match profile {
        Profile::Hardened => {
            "the profile that renders the input's security contexts: manifold's default\n(non-root, no privilege escalation or capabilities, read-only root filesystem)"
        }
        Profile::Restricted => {
            "the profile that renders the input's security contexts: the Pod Security\nStandards' restricted level"
        }
        Profile::Baseline => {
            "the profile that renders the input's security contexts as they are: a stricter\none would add settings the pods do not have (runAsNonRoot, seccomp, ...)"
        }
        Profile::Privileged => {
            "the profile that renders the input's security contexts as they are: the pods\nneed more than the baseline level allows (privileged, host paths, capabilities)"
        }
    }
}

/// The security contexts of a pod: its own, the main container's, then
/// the side and init containers'.
struct Pod<'a> {
    pod: &'a Json,
    main: &'a Json,
    sides: Vec<&'a Json>,
}

impl<'a> Pod<'a> {
    fn of(spec: &'a Json) -> Self {
        let mut containers = items(&spec["containers"]).map(|c| &c["securityContext"]);
        let main = containers.next().unwrap_or(&Json::Null);
        let mut sides: Vec<&Json> = containers.collect();
        sides.extend(items(&spec["initContainers"]).map(|c| &c["securityContext"]));
        Pod {
            pod: &spec["securityContext"],
            main,
            sides,
        }
    }
}

/// What the input does that a profile may refuse.
fn settings<'a>(spec: &'a Json, pod: &Pod<'a>) -> Vec<Setting<'a>> {
    let mut out = Vec::new();
    let root = |c: &Json| c["runAsNonRoot"] == false || c["runAsUser"] == 0;
    if root(pod.pod) {
        out.push(Setting::Root);
    }
    for c in std::iter::once(pod.main).chain(pod.sides.iter().copied()) {
        if c["privileged"] == true {
            out.push(Setting::Privileged);
        }
        if root(c) {
            out.push(Setting::Root);
        }
        if c["allowPrivilegeEscalation"] == true {
            out.push(Setting::Escalation);
        }
        for cap in items(&c["capabilities"]["add"]).filter_map(Json::as_str) {
            out.push(Setting::Capability(cap));
        }
    }
    if items(&spec["volumes"]).any(|v| v["hostPath"].is_object()) {
        out.push(Setting::HostPath);
    }
    out
}

/// The keys one profile needs, and what it would add that the input lacks.
#[derive(Default)]
struct Attempt {
    service: Vec<(String, Toml)>,
    containers: Vec<Table>,
    /// Fields rendered that the input does not have.
    added: usize,
    /// Values of the input the keys do not render, left to patches.
    patched: usize,
}

impl Attempt {
    fn keys(&self) -> usize {
        let side: usize = self.containers.iter().map(|t| t.keys().count()).sum();
        self.service.len() + side
    }
}

fn attempt(p: Profile, pod: &Pod<'_>, d: &Security) -> Attempt {
    let strict = p.restricts();
    let mut a = Attempt {
        containers: vec![Table::new(); pod.sides.len()],
        ..Default::default()
    };
    let bools = [
        ("privileged", "privileged", None, d.privileged),
        (
            "allowPrivilegeEscalation",
            "allow_privilege_escalation",
            strict.then_some(false),
            d.allow_privilege_escalation,
        ),
        (
            "readOnlyRootFilesystem",
            "read_only_root_filesystem",
            p.read_only_root().then_some(true),
            d.read_only_root_filesystem,
        ),
    ];
    for (field, key, profile_default, from_env) in bools {
        a.container_bool(pod, field, key, profile_default, from_env);
    }
    a.capabilities(pod, strict, d.capabilities.as_ref());
    let non_root = (
        "runAsNonRoot",
        "run_as_non_root",
        d.run_as_non_root.or(strict.then_some(true)).map(Json::from),
    );
    let ids = [
        non_root,
        ("runAsUser", "run_as_user", d.run_as_user.map(Json::from)),
        ("runAsGroup", "run_as_group", d.run_as_group.map(Json::from)),
        ("fsGroup", "fs_group", d.fs_group.map(Json::from)),
    ];
    for (field, key, rendered) in ids {
        let want = pod.pod.get(field).filter(|v| !v.is_null());
        match (want, rendered) {
            (w, r) if w == r.as_ref() => {}
            (Some(v), _) => a.service.push((key.to_string(), json_scalar(v))),
            (None, Some(_)) => a.added += 1,
            (None, None) => {}
        }
    }
    match &pod.pod["seccompProfile"] {
        Json::Null if strict => a.added += 1,
        Json::Null => {}
        s if !strict || *s != serde_json::json!({"type": "RuntimeDefault"}) => a.patched += 1,
        _ => {}
    }
    for (i, c) in pod.sides.iter().enumerate() {
        for (field, key) in [
            ("runAsNonRoot", "run_as_non_root"),
            ("runAsUser", "run_as_user"),
            ("runAsGroup", "run_as_group"),
        ] {
            if let Some(v) = c.get(field).filter(|v| !v.is_null()) {
                a.containers[i].set(key, json_scalar(v));
            }
        }
    }
    a
}

impl Attempt {
    /// A boolean of the containers' security contexts: a service key when
    /// the main container's value differs from what it gets anyway and
    /// every side container sets its own (which a service key would
    /// otherwise reach); else the main container's value is left to a
    /// patch. Side containers get a key where they differ from what they
    /// inherit.
    fn container_bool(
        &mut self,
        pod: &Pod<'_>,
        field: &str,
        key: &str,
        profile_default: Option<bool>,
        from_env: Option<bool>,
    ) {
        let base = from_env.or(profile_default);
        let main = pod.main[field].as_bool();
        let sides_set = pod.sides.iter().all(|c| c[field].is_boolean());
        let own = (main != base && main.is_some() && sides_set)
            .then_some(main)
            .flatten();
        if let Some(v) = own {
            self.service.push((key.to_string(), Toml::Bool(v)));
        }
        let inherited = own.or(from_env).or(profile_default);
        match main {
            None if inherited.is_some() => self.added += 1,
            Some(_) if main != inherited => self.patched += 1,
            _ => {}
        }
        for (i, c) in pod.sides.iter().enumerate() {
            match c[field].as_bool() {
                want if want == inherited => {}
                Some(v) => self.containers[i].set(key, v),
                None => self.added += 1,
            }
        }
    }

    /// Added capabilities (`capabilities`; an empty list takes the
    /// environment's away), and the `drop: [ALL]` the restricting profiles
    /// write.
    fn capabilities(&mut self, pod: &Pod<'_>, strict: bool, from_env: Option<&Vec<String>>) {
        let added = |c: &Json| strings(&c["capabilities"]["add"]).filter(|a| !a.is_empty());
        let base = from_env.filter(|c| !c.is_empty()).cloned();
        let main = added(pod.main);
        let sides_set = pod.sides.iter().all(|c| added(c).is_some());
        let own = if main == base {
            None
        } else if main.is_none() {
            Some(Vec::new())
        } else if sides_set {
            main.clone()
        } else {
            None
        };
        if let Some(v) = &own {
            self.service.push(("capabilities".into(), v.clone().into()));
        }
        let inherited = match &own {
            Some(v) if v.is_empty() => None,
            Some(v) => Some(v.clone()),
            None => base,
        };
        // Whether what a container's capabilities render adds to the
        // input's, and how many of the input's values they miss.
        let compare = |c: &Json, add: &Option<Vec<String>>| -> (bool, usize) {
            let caps = &c["capabilities"];
            let rendered = strict || add.is_some();
            let adds = rendered && (!caps.is_object() || strict && caps["drop"].is_null());
            let drop = strings(&caps["drop"]);
            let drop_rendered = strict.then(|| vec!["ALL".to_string()]);
            let missed = usize::from(drop.is_some() && drop != drop_rendered)
                + usize::from(added(c).is_some() && added(c) != *add)
                + usize::from(caps.is_object() && !rendered);
            (adds, missed)
        };
        let (adds, missed) = compare(pod.main, &inherited);
        self.added += usize::from(adds);
        self.patched += missed;
        for (i, c) in pod.sides.iter().enumerate() {
            let want = added(c);
            let add = if want == inherited {
                inherited.clone()
            } else {
                let key = want.clone().unwrap_or_default();
                self.containers[i].set("capabilities", key);
                want
            };
            let (adds, missed) = compare(c, &add);
            self.added += usize::from(adds);
            self.patched += missed;
        }
    }
}

fn json_scalar(v: &Json) -> Toml {
    match v {
        Json::Bool(b) => Toml::Bool(*b),
        Json::Number(n) => Toml::Int(n.as_i64().unwrap_or_default()),
        other => Toml::Str(other.as_str().unwrap_or_default().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile_of(spec: Json) -> (Profile, Table) {
        let p = plan(&spec, &Security::default());
        (p.profile, p.service)
    }

    #[test]
    fn a_pod_without_security_contexts_is_baseline_and_a_privileged_one_privileged() {
        let plain = json!({"containers": [{"name": "web"}], "securityContext": {}});
        assert_eq!(profile_of(plain).0, Profile::Baseline);
        let privileged =
            json!({"containers": [{"name": "agent", "securityContext": {"privileged": true}}]});
        let (profile, keys) = profile_of(privileged);
        assert_eq!(profile, Profile::Privileged);
        assert_eq!(keys.get("privileged"), Some(&Toml::Bool(true)));
    }

    #[test]
    fn restricted_pods_keep_their_level_and_read_only_ones_are_hardened() {
        let mut spec = json!({
            "securityContext": {"runAsNonRoot": true, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "api", "securityContext": {
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}
            }}]
        });
        let (profile, keys) = profile_of(spec.clone());
        assert_eq!(profile, Profile::Restricted);
        assert_eq!(keys.get("run_as_user"), Some(&Toml::Int(1000)));
        assert_eq!(keys.get("run_as_non_root"), None);
        spec["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = json!(true);
        assert_eq!(profile_of(spec.clone()).0, Profile::Hardened);
        // A writable root filesystem said out loud takes a key under either
        // profile: the more restrictive, lifted by it.
        spec["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = json!(false);
        let (profile, keys) = profile_of(spec);
        assert_eq!(profile, Profile::Hardened);
        assert_eq!(
            keys.get("read_only_root_filesystem"),
            Some(&Toml::Bool(false))
        );
    }

    #[test]
    fn root_is_never_made_non_root() {
        let spec = json!({
            "securityContext": {"runAsUser": 0},
            "containers": [{"name": "db", "securityContext": {
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}
            }}]
        });
        let p = plan(&spec, &Security::default());
        assert_eq!(p.profile, Profile::Baseline);
        assert_eq!(p.service.get("run_as_non_root"), None);
        assert_eq!(p.service.get("run_as_user"), Some(&Toml::Int(0)));
        // Said in full, the same pod is `hardened` with its one lift: no
        // patch, and nothing added.
        let spec = json!({
            "securityContext": {"runAsNonRoot": false, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "db", "securityContext": {
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]},
                "readOnlyRootFilesystem": true
            }}]
        });
        let p = plan(&spec, &Security::default());
        assert_eq!(p.profile, Profile::Hardened);
        assert_eq!(p.service.get("run_as_non_root"), Some(&Toml::Bool(false)));
    }

    #[test]
    fn side_containers_get_their_own_keys_and_never_inherit_what_they_lack() {
        let spec = json!({
            "containers": [
                {"name": "web", "securityContext": {"readOnlyRootFilesystem": true}},
                {"name": "log", "securityContext": {"runAsUser": 0, "capabilities": {"add": ["CHOWN"]}}}
            ]
        });
        let p = plan(&spec, &Security::default());
        assert_eq!(p.profile, Profile::Baseline);
        // The side container has no readOnlyRootFilesystem: the main
        // container's comes from a patch, not from a key it would inherit.
        assert_eq!(p.service.get("read_only_root_filesystem"), None);
        assert_eq!(
            p.containers[0].get("capabilities"),
            Some(&Toml::from(vec!["CHOWN".to_string()]))
        );
        assert_eq!(p.containers[0].get("run_as_user"), Some(&Toml::Int(0)));
    }

    #[test]
    fn what_the_environment_sets_is_overridden_or_counted() {
        let defaults = Security {
            run_as_user: Some(10001),
            capabilities: Some(vec!["NET_ADMIN".into()]),
            ..Default::default()
        };
        let spec = json!({"containers": [{"name": "web"}]});
        let p = plan(&spec, &defaults);
        // An empty list takes the environment's capabilities away; its
        // user cannot be taken away: the profile is the first that adds
        // nothing else.
        assert_eq!(p.service.get("capabilities"), Some(&Toml::Array(vec![])));
        assert_eq!(p.profile, Profile::Baseline);
    }
}
