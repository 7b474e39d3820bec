//! The JSON renderer, for machines: every value of every cell, whole
//! (digests included), whatever the views leave out.

use serde_json::{Value as Json, json};

use crate::model::WorkloadKind;

use super::{Cell, Matrix, Replicas};

/// The matrix as one JSON document:
/// `{"environments": [{"name", "promote_from", "compared_with"}],
/// "services": [{"name", "file", "cells": [{"environment", "enabled",
/// "kind", "version", "replicas", "autoscale": {"min", "max"}, "serve",
/// "tracks": [{"name", "version", "replicas", "weight", "header",
/// "header_value", "cookie"}], "differs"}]}]}`, environments in promotion
/// order and each service's cells in the same order.
pub fn render_json(matrix: &Matrix) -> Json {
    let environments: Vec<Json> = matrix
        .columns
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "promote_from": c.promote_from,
                "compared_with": c.compared_with,
            })
        })
        .collect();
    let services: Vec<Json> = matrix
        .rows
        .iter()
        .map(|row| {
            let cells: Vec<Json> = row
                .cells
                .iter()
                .zip(&matrix.columns)
                .map(|(cell, column)| cell_json(cell, &column.name))
                .collect();
            json!({"name": row.name, "file": row.file, "cells": cells})
        })
        .collect();
    json!({"environments": environments, "services": services})
}

fn cell_json(cell: &Cell, environment: &str) -> Json {
    let (replicas, autoscale) = match cell.replicas {
        Some(Replicas::Fixed(n)) => (json!(n), Json::Null),
        Some(Replicas::Autoscale { min, max }) => (Json::Null, json!({"min": min, "max": max})),
        None => (Json::Null, Json::Null),
    };
    let tracks: Vec<Json> = cell
        .tracks
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "version": t.version,
                "replicas": t.replicas,
                "weight": t.weight,
                "header": t.header,
                "header_value": t.header_value,
                "cookie": t.cookie,
            })
        })
        .collect();
    json!({
        "environment": environment,
        "enabled": cell.enabled,
        "kind": cell.kind.map(WorkloadKind::as_str),
        "version": cell.version,
        "replicas": replicas,
        "autoscale": autoscale,
        "serve": cell.serve,
        "tracks": tracks,
        "differs": cell.differs.iter().map(|a| a.name()).collect::<Vec<_>>(),
    })
}
