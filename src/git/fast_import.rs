//! The `git fast-import` stream format.

/// Regular, non-executable file: the only mode manifold writes.
pub const FILE_MODE: &str = "100644";

/// A path as fast-import reads it: C-quoted when it could be misread.
pub fn quote(path: &str) -> String {
    if !path.starts_with('"') && !path.contains(['\n', '\\', '"']) {
        return path.to_string();
    }
    let mut s = String::from("\"");
    for c in path.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_only_when_needed() {
        assert_eq!(quote("dev/web/d.yaml"), "dev/web/d.yaml");
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
    }
}
