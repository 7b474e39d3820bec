//! Object ids computed in-process, as git computes them, so an unchanged
//! tree is recognised without asking git.

use std::collections::BTreeMap;

use sha1::Digest;

use super::fast_import::FILE_MODE;

/// The hash function of a repository (`git rev-parse --show-object-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectFormat {
    Sha1,
    Sha256,
}

impl ObjectFormat {
    /// The id git gives an object of `kind` (`blob`, `tree`) with `data`.
    pub fn hash(self, kind: &str, data: &[u8]) -> String {
        let header = format!("{kind} {}\0", data.len());
        match self {
            ObjectFormat::Sha1 => {
                let mut h = sha1::Sha1::new();
                h.update(header.as_bytes());
                h.update(data);
                hex(&h.finalize())
            }
            ObjectFormat::Sha256 => {
                let mut h = sha2::Sha256::new();
                h.update(header.as_bytes());
                h.update(data);
                hex(&h.finalize())
            }
        }
    }

    /// The all-zero id, which `update-ref` reads as "must not exist".
    pub fn zero(self) -> String {
        match self {
            ObjectFormat::Sha1 => "0".repeat(40),
            ObjectFormat::Sha256 => "0".repeat(64),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or(0))
        .collect()
}

/// The id of the tree git would build from `files` (path -> blob id, every
/// file a regular file), without asking git.
pub fn tree_id(format: ObjectFormat, files: &BTreeMap<String, String>) -> String {
    #[derive(Default)]
    struct Dir<'a> {
        files: BTreeMap<&'a str, &'a str>,
        dirs: BTreeMap<&'a str, Dir<'a>>,
    }
    fn id(format: ObjectFormat, dir: &Dir) -> String {
        // Git sorts a subtree as if its name ended in `/`.
        let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
        for (name, oid) in &dir.files {
            let mut e = format!("{FILE_MODE} {name}\0").into_bytes();
            e.extend(unhex(oid));
            entries.push((name.to_string(), e));
        }
        for (name, sub) in &dir.dirs {
            let mut e = format!("40000 {name}\0").into_bytes();
            e.extend(unhex(&id(format, sub)));
            entries.push((format!("{name}/"), e));
        }
        entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let body: Vec<u8> = entries.into_iter().flat_map(|(_, e)| e).collect();
        format.hash("tree", &body)
    }
    let mut root = Dir::default();
    for (path, oid) in files {
        let mut dir = &mut root;
        let mut parts = path.split('/').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                dir.files.insert(part, oid);
            } else {
                dir = dir.dirs.entry(part).or_default();
            }
        }
    }
    id(format, &root)
}

/// Why git would reject `path` as the path of a file in a tree (`git fsck`
/// reports such entries and `git checkout` refuses them), or `None` when it
/// is a plain path: segments separated by single `/`, none empty, `.` or
/// `..`, none naming `.git` in any spelling a case-insensitive (HFS+, NTFS)
/// file system reads as `.git`, and no NUL or backslash anywhere.
pub fn bad_tree_path(path: &str) -> Option<String> {
    if path.contains('\0') {
        return Some("contains a NUL byte".into());
    }
    if path.contains('\\') {
        return Some("contains a backslash".into());
    }
    for segment in path.split('/') {
        match segment {
            "" => return Some("has an empty segment (a leading, trailing or double `/`)".into()),
            "." | ".." => return Some(format!("has a `{segment}` segment")),
            s if is_dotgit(s) => return Some(format!("has a segment `{s}` that reads as `.git`")),
            _ => {}
        }
    }
    None
}

/// Whether a tree entry name is `.git` as git's fsck sees it: in any case,
/// with the code points HFS+ ignores, with the trailing dots and spaces NTFS
/// drops or an NTFS stream suffix (`:...`), or as the 8.3 short name
/// `git~1`.
fn is_dotgit(name: &str) -> bool {
    let hfs: String = name
        .chars()
        .filter(|c| {
            !matches!(c, '\u{200c}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{206a}'..='\u{206f}' | '\u{feff}')
        })
        .flat_map(char::to_lowercase)
        .collect();
    if hfs == ".git" {
        return true;
    }
    let lower = name.to_ascii_lowercase();
    if lower == "git~1" {
        return true;
    }
    match lower.strip_prefix(".git") {
        Some(rest) => {
            rest.starts_with(':')
                || (!rest.is_empty() && rest.chars().all(|c| c == '.' || c == ' '))
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};

    #[test]
    fn blob_ids_match_git() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            ObjectFormat::Sha1.hash("blob", b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        // The empty tree, well known to git.
        assert_eq!(
            tree_id(ObjectFormat::Sha1, &BTreeMap::new()),
            "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
        );
        assert_eq!(
            tree_id(ObjectFormat::Sha256, &BTreeMap::new()),
            "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321"
        );
    }

    #[test]
    fn tree_ids_match_git_mktree() {
        // Names chosen so that git's "a directory sorts as name/" rule
        // matters: `a-b` < `a/` < `a0` but `a` (dir) sorts after `a-b`.
        let files: BTreeMap<String, String> = [
            ("a-b", "1\n"),
            ("a/x.yaml", "2\n"),
            ("a0", "3\n"),
            ("README.md", "4\n"),
            ("dev/web/deployment-web.yaml", "5\n"),
        ]
        .iter()
        .map(|(p, c)| (p.to_string(), ObjectFormat::Sha1.hash("blob", c.as_bytes())))
        .collect();
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str], input: Option<&str>| {
            let mut child = Command::new("git")
                .current_dir(dir.path())
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("HOME", dir.path())
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(input.unwrap_or("").as_bytes()).unwrap();
            drop(stdin);
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "git {args:?}");
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        };
        git(&["init", "-q", "repo"], None);
        let repo = dir.path().join("repo");
        let git_in = |args: &[&str], input: &str| {
            let mut full = vec!["-C", repo.to_str().unwrap()];
            full.extend(args);
            git(&full, Some(input))
        };
        for (path, content) in [
            ("a-b", "1\n"),
            ("a/x.yaml", "2\n"),
            ("a0", "3\n"),
            ("README.md", "4\n"),
            ("dev/web/deployment-web.yaml", "5\n"),
        ] {
            let id = git_in(&["hash-object", "-w", "--stdin"], content);
            assert_eq!(id, files[path]);
            git_in(
                &[
                    "update-index",
                    "--add",
                    "--cacheinfo",
                    &format!("100644,{id},{path}"),
                ],
                "",
            );
        }
        let expected = git_in(&["write-tree"], "");
        assert_eq!(tree_id(ObjectFormat::Sha1, &files), expected);
    }

    #[test]
    fn tree_paths_git_would_reject_are_named() {
        for ok in [
            "dev/web/deployment-web.yaml",
            "README.md",
            ".gitattributes",
            "a/.github/x",
            "git~2",
            "...",
            "a b/c\"d",
        ] {
            assert_eq!(bad_tree_path(ok), None, "{ok}");
        }
        for bad in [
            "",
            "/a",
            "a/",
            "a//b",
            ".",
            "a/./b",
            "..",
            "dev/../x",
            ".git",
            "a/.GIT/config",
            ".Git/x",
            ".git./x",
            ".git  /x",
            ".git::$INDEX_ALLOCATION/x",
            "GIT~1/x",
            ".g\u{200c}it/x",
            "a\\b",
            "a\0b",
        ] {
            assert!(bad_tree_path(bad).is_some(), "{bad:?}");
        }
    }
}
