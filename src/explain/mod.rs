//! `manifold explain`: where a value of a merged service comes from.
//!
//! Three questions, each answered as text for people and as JSON for
//! tools (`json.rs` holds the shape): the whole merged service, every value
//! annotated with the layer and line that set it and the values it
//! replaced (`service`); the chain of layers of one key, down to the
//! built-in default of the schema (`key`); and the input behind a field of
//! a rendered object (`field`, traced by `field.rs` and the rules of
//! `rules.rs`).
//!
//! Everything is read from what the merge keeps (`compile::trace` merges
//! and renders the pair); nothing here tracks layers itself. A path that
//! names nothing is a usage error (a message, not a diagnostic): it is a
//! question about the input, not a problem in it.

mod chain;
mod field;
mod json;
mod path;
mod rules;
mod schema;
mod text;

use serde_json::Value as Json;

use crate::compile::Traced;
use crate::diag::{Sources, did_you_mean};
use crate::input::tree::{Node, Value};
use chain::{Explained, Reader};
use path::{Seg, display, item_seg};

/// An explanation, as text and as JSON.
pub struct Output {
    pub text: String,
    pub json: Json,
}

fn reader<'a>(t: &'a Traced<'_>, sources: &'a Sources) -> Reader<'a> {
    Reader {
        sources,
        layers: &t.layers,
        tree: &t.tree,
        kind: t.kind,
    }
}

/// The files of the pair, low to high, for the first line of the text.
fn title(t: &Traced<'_>, sources: &Sources, environment: &str) -> String {
    let path = |f| sources.get(f).path.clone();
    let mut files = vec![
        format!("[defaults] {}", path(t.layers.environment)),
        format!("service file {}", path(t.layers.service)),
    ];
    files.extend(t.layers.overlay.map(|o| format!("overlay {}", path(o))));
    let state = if t.enabled {
        ""
    } else {
        " (disabled: `enabled = false`)"
    };
    format!("{} in {environment}{state}: {}", t.name, files.join(" < "))
}

/// The whole merged service, every value annotated.
pub fn service(t: &Traced<'_>, sources: &Sources, environment: &str) -> Output {
    let (text, values) =
        text::service(reader(t, sources), &t.tree, &title(t, sources, environment));
    let mut json = json::header(t, sources, environment);
    json.insert(
        "values".into(),
        Json::Array(values.iter().map(json::explained).collect()),
    );
    Output {
        text,
        json: Json::Object(json),
    }
}

/// The chain of layers of one key, or of every value under it.
pub fn key(
    t: &Traced<'_>,
    sources: &Sources,
    environment: &str,
    key: &str,
) -> Result<Output, String> {
    let segs = path::parse(key)?;
    let r = reader(t, sources);
    let (values, note) = match path::follow(&t.tree, &segs) {
        Some((node, canonical)) => (leaves(r, node, canonical), None),
        None => match schema::find(&segs) {
            schema::Found::Unknown { at, known } => return Err(unknown_key(&segs, at, &known)),
            _ => (vec![r.unset(segs.clone())], schema::description(&segs)),
        },
    };
    let text = values
        .iter()
        .map(|e| text::chain(e, note.as_deref()))
        .collect::<Vec<_>>()
        .join("\n");
    let mut json = json::header(t, sources, environment);
    json.insert("key".into(), Json::from(display(&segs)));
    json.insert(
        "values".into(),
        Json::Array(values.iter().map(json::explained).collect()),
    );
    Ok(Output {
        text,
        json: Json::Object(json),
    })
}

fn unknown_key(segs: &[Seg], at: usize, known: &[String]) -> String {
    let wrong = match &segs[at] {
        Seg::Key(k) => k.clone(),
        Seg::Index(i) => format!("[{i}]"),
    };
    let place = if at == 0 {
        "a service".to_string()
    } else {
        format!("`{}`", display(&segs[..at]))
    };
    match did_you_mean(&wrong, known.iter().map(String::as_str)) {
        Some(better) => format!("{place} has no key `{wrong}`; did you mean `{better}`?"),
        None if known.is_empty() => format!("{place} has no key `{wrong}`"),
        None => format!(
            "{place} has no key `{wrong}`; keys are: {}",
            known.join(", ")
        ),
    }
}

/// The values under `node`, in written order, with the built-in defaults
/// of its tables.
fn leaves(r: Reader<'_>, node: &Node, key: Vec<Seg>) -> Vec<Explained> {
    let mut out = Vec::new();
    match &node.value {
        Value::Table(table) => {
            for (k, child) in table.iter() {
                let mut p = key.clone();
                p.push(Seg::Key(k.clone()));
                out.extend(leaves(r, child, p));
            }
            for (k, _) in schema::defaults_of(&key) {
                if table.get(k).is_none() {
                    let mut p = key.clone();
                    p.push(Seg::Key(k.to_string()));
                    out.extend(Some(r.unset(p)).filter(|e| !e.chain.is_empty()));
                }
            }
        }
        Value::Array(items)
            if !items.is_empty() && items.iter().all(|i| i.as_table().is_some()) =>
        {
            for (i, item) in items.iter().enumerate() {
                let mut p = key.clone();
                p.push(item_seg(item, i));
                out.extend(leaves(r, item, p));
            }
        }
        _ => out.push(r.explain(key, node)),
    }
    out
}

/// The input behind a field of a rendered object: `object` is
/// `KIND/NAME`, as patches name it.
pub fn field(
    t: &Traced<'_>,
    sources: &Sources,
    environment: &str,
    object: &str,
    field: &str,
) -> Result<Output, String> {
    if !t.enabled {
        return Err(format!(
            "`{}` renders nothing in `{environment}`: `enabled = false`",
            t.name
        ));
    }
    let found = find_object(t, object)?;
    let segs = path::parse(field)?;
    let Some(value) = path::follow_json(&found.value, &segs) else {
        return Err(no_field(found, &segs));
    };
    let segs = path::json_indices(&found.value, &segs);
    let trail = field::trace(t, reader(t, sources), found, &segs);
    let shown = format!("{}/{} {}", found.kind, found.name, display(&segs));
    let mut out = format!(
        "{shown} = {}\n",
        serde_json::to_string(value).unwrap_or_default()
    );
    out.push_str(&match &trail.source {
        field::Source::Key => match trail.values.first().map(|e| display(&e.key)) {
            Some(k) => format!("from the key `{k}`\n"),
            None => "from a key no layer sets\n".to_string(),
        },
        field::Source::Patch => "set by a patch\n".to_string(),
        field::Source::Object => "written in a raw object of `objects`\n".to_string(),
        field::Source::Computed(how) => format!("computed by manifold: {how}\n"),
    });
    for e in &trail.values {
        out.push('\n');
        out.push_str(&text::chain(e, None));
    }
    let mut json = json::header(t, sources, environment);
    json.insert(
        "object".into(),
        serde_json::json!({"kind": found.kind, "name": found.name}),
    );
    json.insert("field".into(), Json::from(display(&segs)));
    json.insert("value".into(), value.clone());
    json.insert("source".into(), Json::from(trail.source.id()));
    json.insert(
        "how".into(),
        match &trail.source {
            field::Source::Computed(how) => Json::from(how.as_str()),
            _ => Json::Null,
        },
    );
    json.insert(
        "values".into(),
        Json::Array(trail.values.iter().map(json::explained).collect()),
    );
    Ok(Output {
        text: out,
        json: Json::Object(json),
    })
}

/// The object `KIND/NAME` (any case of the kind; a Job also by the name
/// patches know it by).
fn find_object<'a>(t: &'a Traced<'_>, object: &str) -> Result<&'a crate::render::Object, String> {
    let Some((kind, name)) = object.split_once('/') else {
        return Err(format!(
            "`{object}` is not `KIND/NAME`, such as `deployment/{}`",
            t.name
        ));
    };
    let kind = kind.to_lowercase();
    let found = t.objects.iter().find(|o| {
        o.kind.to_lowercase() == kind && (o.name == name || o.patch_name.as_deref() == Some(name))
    });
    if let Some(found) = found {
        return Ok(found);
    }
    let known: Vec<String> = t.objects.iter().map(|o| o.patch_key()).collect();
    let asked = format!("{kind}/{name}");
    Err(
        match did_you_mean(&asked, known.iter().map(String::as_str)) {
            Some(better) => format!(
                "`{}` renders no `{object}`; did you mean `{better}`?",
                t.name
            ),
            None => format!(
                "`{}` renders no `{object}`; its objects are: {}",
                t.name,
                known.join(", ")
            ),
        },
    )
}

/// A field the object does not have: the nearest one it has, and its keys.
fn no_field(object: &crate::render::Object, segs: &[Seg]) -> String {
    let mut depth = 0;
    while depth < segs.len() && path::follow_json(&object.value, &segs[..=depth]).is_some() {
        depth += 1;
    }
    let at = path::follow_json(&object.value, &segs[..depth]);
    let shown = format!("{} `{}`", object.kind, object.name);
    let keys: Vec<&str> = match at {
        Some(Json::Object(map)) => map.keys().map(String::as_str).collect(),
        _ => Vec::new(),
    };
    let wrong = display(&segs[depth..=depth.min(segs.len() - 1)]);
    let mut message = format!("{shown} has no field `{}`", display(segs));
    if let Some(better) = did_you_mean(&wrong, keys.iter().copied()) {
        message.push_str(&format!(
            "; did you mean `{better}` at `{}`?",
            display(&segs[..depth])
        ));
    } else if !keys.is_empty() {
        let place = if depth == 0 {
            "its top".to_string()
        } else {
            format!("`{}`", display(&segs[..depth]))
        };
        message.push_str(&format!("; fields at {place}: {}", keys.join(", ")));
    }
    message
}
