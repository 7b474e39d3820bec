//! Security profiles (`security.profile`), named after the Pod Security
//! Standards: what each writes into the security contexts where the input
//! says nothing, and which explicit settings each refuses. Rendering reads
//! the first, the checks the second; both read them here.
//!
//! `hardened`, the default, is manifold's own: the `restricted` level plus a
//! read-only root filesystem, each of which a service may lift key by key
//! (`run_as_non_root = false`, `capabilities`, ...), as it always could;
//! only `privileged` and the node's namespaces (host network, PID, IPC)
//! need the `privileged` profile. `restricted` and
//! `baseline` are the Kubernetes levels: a setting they forbid is an error,
//! so that a namespace that enforces the level admits the pods.

use serde::Deserialize;

/// A Pod Security Standards level, or manifold's stricter default.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    #[default]
    Hardened,
    Restricted,
    Baseline,
    Privileged,
}

/// The capabilities the `baseline` level lets a container add (the
/// container runtime's default set).
pub const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// The one capability the `restricted` level lets a container add back.
pub const RESTRICTED_CAPABILITY: &str = "NET_BIND_SERVICE";

/// An explicit setting a profile may refuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting<'a> {
    /// `privileged = true`.
    Privileged,
    /// `run_as_non_root = false`, or `run_as_user = 0`.
    Root,
    /// `allow_privilege_escalation = true`.
    Escalation,
    /// A capability in `capabilities`.
    Capability(&'a str),
    /// A `host_path` volume: the node's own files.
    HostPath,
    /// `hostNetwork`, `hostPID` or `hostIPC` (named): the node's own
    /// network, processes or shared memory. No key writes it; patches and
    /// raw objects can.
    HostNamespace(&'a str),
}

impl Profile {
    /// The name as written in `security.profile`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Hardened => "hardened",
            Profile::Restricted => "restricted",
            Profile::Baseline => "baseline",
            Profile::Privileged => "privileged",
        }
    }

    /// Whether the profile writes `runAsNonRoot: true`,
    /// `allowPrivilegeEscalation: false`, `capabilities.drop: [ALL]` and the
    /// `RuntimeDefault` seccomp profile where the input does not say.
    pub fn restricts(self) -> bool {
        matches!(self, Profile::Hardened | Profile::Restricted)
    }

    /// Whether the profile writes `readOnlyRootFilesystem: true` where the
    /// input does not say.
    pub fn read_only_root(self) -> bool {
        self == Profile::Hardened
    }

    /// `Err` with the least permissive profile that allows `setting`, when
    /// this one does not.
    pub fn allows(self, setting: Setting<'_>) -> Result<(), Profile> {
        let needs = match setting {
            Setting::Privileged | Setting::HostPath | Setting::HostNamespace(_) => {
                Profile::Privileged
            }
            Setting::Root | Setting::Escalation => Profile::Baseline,
            Setting::Capability(RESTRICTED_CAPABILITY) => return Ok(()),
            Setting::Capability(c) if BASELINE_CAPABILITIES.contains(&c) => Profile::Baseline,
            Setting::Capability(_) => Profile::Privileged,
        };
        let allowed = match self {
            Profile::Privileged => true,
            Profile::Baseline => needs != Profile::Privileged,
            Profile::Restricted => false,
            // Lifted key by key, as before profiles existed; only
            // `privileged` and the node's namespaces, which no key lifts,
            // need the `privileged` profile.
            Profile::Hardened => {
                !matches!(setting, Setting::Privileged | Setting::HostNamespace(_))
            }
        };
        if allowed { Ok(()) } else { Err(needs) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_profile_refuses_what_its_level_forbids_and_names_one_that_allows_it() {
        const ALL: [Profile; 4] = [
            Profile::Hardened,
            Profile::Restricted,
            Profile::Baseline,
            Profile::Privileged,
        ];
        let ok = Ok(());
        let baseline = Err(Profile::Baseline);
        let privileged = Err(Profile::Privileged);
        let cases = [
            (
                Setting::Privileged,
                [privileged, privileged, privileged, ok],
            ),
            (Setting::Root, [ok, baseline, ok, ok]),
            (Setting::Escalation, [ok, baseline, ok, ok]),
            (Setting::Capability("NET_BIND_SERVICE"), [ok, ok, ok, ok]),
            (Setting::Capability("CHOWN"), [ok, baseline, ok, ok]),
            (
                Setting::HostNamespace("hostNetwork"),
                [privileged, privileged, privileged, ok],
            ),
            (Setting::HostPath, [ok, privileged, privileged, ok]),
            (
                Setting::Capability("NET_ADMIN"),
                [ok, privileged, privileged, ok],
            ),
        ];
        for (setting, expected) in cases {
            assert_eq!(ALL.map(|p| p.allows(setting)), expected, "{setting:?}");
        }
    }
}
