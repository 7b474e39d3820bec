//! The NetworkPolicy of `[network_policy]`: which peers may connect to the
//! service's pods (every track), and, when `egress` is set, where those pods
//! may connect.
//!
//! A peer service is selected by its `app` label; a group by its `group`
//! label. A peer in another namespace than the service's gets a
//! `namespaceSelector` on `kubernetes.io/metadata.name` beside its
//! `podSelector`, since a bare `podSelector` only selects pods of the policy's
//! own namespace; `namespace = "*"` selects every namespace. Ingress ports
//! named after the service's own ports are written as their numbers and
//! protocols; egress ports are the peers', so names stay names and match the
//! peers' container port names.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1 as networking;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{Object, Scope, non_empty_vec};
use crate::model::{self, NetworkRule, PortRef};

/// The label every namespace carries with its own name (Kubernetes 1.22+).
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

pub(super) fn render(scope: &Scope<'_>, out: &mut Vec<Object>) {
    if let Some(policy) = &scope.svc.network_policy {
        out.push(scope.network_policy(policy));
    }
}

impl Scope<'_> {
    fn network_policy(&self, policy: &model::NetworkPolicy) -> Object {
        let mut types = vec!["Ingress".to_string()];
        if policy.egress.is_some() {
            types.push("Egress".to_string());
        }
        let ingress = policy
            .ingress
            .iter()
            .map(|rule| networking::NetworkPolicyIngressRule {
                from: non_empty_vec(self.peers(rule)),
                ports: non_empty_vec(rule.ports.iter().map(|p| self.own_port(p, rule)).collect()),
            })
            .collect();
        let egress = policy.egress.as_ref().map(|rules| {
            rules
                .iter()
                .map(|rule| networking::NetworkPolicyEgressRule {
                    to: non_empty_vec(self.peers(rule)),
                    ports: non_empty_vec(rule.ports.iter().map(|p| peer_port(p, rule)).collect()),
                })
                .collect()
        });
        let p = networking::NetworkPolicy {
            metadata: self.meta(self.cx.name),
            spec: Some(networking::NetworkPolicySpec {
                pod_selector: Some(selector([("app", self.cx.name)])),
                policy_types: Some(types),
                ingress: Some(ingress),
                egress,
            }),
        };
        Object::new(&p, self.cx.name, self.ns())
    }

    /// The peers of one rule: services first, then groups, as written.
    fn peers(&self, rule: &NetworkRule) -> Vec<networking::NetworkPolicyPeer> {
        let services = rule.services.iter().map(|name| {
            let namespace = self
                .cx
                .directory
                .get(name)
                .map_or(self.namespace.as_str(), |peer| peer.namespace.as_str());
            self.peer(("app", name), Some(namespace))
        });
        let groups = rule.groups.iter().map(|group| {
            let namespace = rule.namespace.as_deref().unwrap_or(&self.namespace);
            self.peer(("group", group), (namespace != "*").then_some(namespace))
        });
        services.chain(groups).collect()
    }

    /// Pods with `label` in `namespace` (`None`: in every namespace).
    fn peer(&self, label: (&str, &str), namespace: Option<&str>) -> networking::NetworkPolicyPeer {
        let namespace_selector = match namespace {
            Some(ns) if ns == self.namespace => None,
            Some(ns) => Some(selector([(NAMESPACE_NAME_LABEL, ns)])),
            None => Some(LabelSelector::default()),
        };
        networking::NetworkPolicyPeer {
            pod_selector: Some(selector([label])),
            namespace_selector,
            ip_block: None,
        }
    }

    /// One of the service's own ports, as its number and protocol.
    fn own_port(&self, p: &PortRef, rule: &NetworkRule) -> networking::NetworkPolicyPort {
        let declared = match p {
            PortRef::Name(name) => {
                let containers = self.svc.containers.iter().flat_map(|c| c.ports.iter());
                let mut ports = self.svc.ports.iter().chain(containers);
                ports.find(|d| d.name.as_ref() == Some(name))
            }
            PortRef::Number(_) => None,
        };
        match declared {
            Some(d) => networking::NetworkPolicyPort {
                port: Some(match d.port {
                    Some(n) => IntOrString::Int(n),
                    None => IntOrString::String(d.name.clone().unwrap_or_default()),
                }),
                protocol: Some(d.protocol.clone().unwrap_or_else(|| "TCP".into())),
                end_port: None,
            },
            None => peer_port(p, rule),
        }
    }
}

/// A peer's port: a number, or a name its pods declare.
fn peer_port(p: &PortRef, rule: &NetworkRule) -> networking::NetworkPolicyPort {
    networking::NetworkPolicyPort {
        port: Some(match p {
            PortRef::Number(n) => IntOrString::Int(*n),
            PortRef::Name(name) => IntOrString::String(name.clone()),
        }),
        protocol: Some(rule.protocol.clone().unwrap_or_else(|| "TCP".into())),
        end_port: None,
    }
}

fn selector<const N: usize>(labels: [(&str, &str); N]) -> LabelSelector {
    LabelSelector {
        match_labels: Some(
            labels
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        ),
        ..Default::default()
    }
}
