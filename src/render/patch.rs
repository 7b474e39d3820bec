//! The escape-hatch `patches`: JSON merged into the rendered objects, after
//! every kind has rendered, each keyed by the target's `kind/name`.
//!
//! It renders no object of its own, and a patch that matches no object is
//! not an error here: its key is returned, for `compile` to report.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::Object;
use crate::input::merge::merge;

/// Merges each patch into the object it names; returns the keys that
/// matched no object.
pub(super) fn apply_patches(
    objects: &mut [Object],
    patches: &BTreeMap<String, Json>,
) -> Vec<String> {
    let mut unmatched = Vec::new();
    for (key, patch) in patches {
        match objects.iter_mut().find(|o| &o.patch_key() == key) {
            Some(object) => merge(&mut object.value, patch),
            None => unmatched.push(key.clone()),
        }
    }
    unmatched
}
