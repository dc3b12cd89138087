//! `.dockerignore`: parsing and matching with Docker's rules (moby `patternmatcher` and
//! buildkit `dockerignore.ReadAll`), so ssam sends the engine the same context `docker build`
//! would.
//!
//! The rules: one pattern a line; lines starting with `#` are comments; blank lines are
//! skipped; patterns are relative to the context root (a leading `/` is dropped) and cleaned
//! (`./a/` is `a`); `*` and `?` do not cross `/`; `**` matches any number of directories; a
//! leading `!` makes an exception; the last pattern that matches decides; a pattern that
//! matches a parent directory matches everything below it.
//!
//! One known difference: Docker treats `**` inside a component (`a**b`) as "anything,
//! including `/`"; here it is a plain `*`.

use globset::{GlobBuilder, GlobMatcher};

/// One parsed `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone)]
struct Pattern {
    exception: bool,
    matcher: GlobMatcher,
}

/// A pattern globset could not compile: `(pattern, reason)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPattern {
    pub pattern: String,
    pub reason: String,
}

impl DockerIgnore {
    /// Parses the text of a `.dockerignore`.
    pub fn parse(text: &str) -> Result<DockerIgnore, BadPattern> {
        let mut patterns = Vec::new();
        for line in text.lines() {
            let line = line.strip_prefix('\u{feff}').unwrap_or(line);
            // Docker checks for `#` before trimming, so ` # x` is a pattern, not a comment.
            if line.starts_with('#') {
                continue;
            }
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let (exception, raw) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let cleaned = clean(raw);
            let glob = GlobBuilder::new(&escape_braces(&cleaned))
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| BadPattern {
                    pattern: line.to_string(),
                    reason: e.kind().to_string(),
                })?;
            patterns.push(Pattern {
                exception,
                matcher: glob.compile_matcher(),
            });
        }
        Ok(DockerIgnore { patterns })
    }

    /// Whether any pattern is an exception (`!`): then an excluded directory must still be
    /// walked, because something below it may be let back in.
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exception)
    }

    /// Whether `path` (relative to the context root, `/`-separated) is left out of the context.
    pub fn is_ignored(&self, path: &str) -> bool {
        // Every ancestor directory: `a`, `a/b` for `a/b/c`.
        let parents: Vec<&str> = path.match_indices('/').map(|(i, _)| &path[..i]).collect();
        let mut ignored = false;
        for p in &self.patterns {
            // Like moby: an exclusion can only flip a path that is not yet ignored, and an
            // exception one that is.
            if p.exception != ignored {
                continue;
            }
            let matched =
                p.matcher.is_match(path) || parents.iter().any(|parent| p.matcher.is_match(parent));
            if matched {
                ignored = !p.exception;
            }
        }
        ignored
    }
}

/// Go's `filepath.Clean` for a `/`-separated relative pattern, then a leading `/` dropped.
fn clean(pattern: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in pattern.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                // A pattern cannot climb out of the context: `..` at the root stays at the root.
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// globset reads `{a,b}` as alternatives; Go's matcher reads braces literally.
fn escape_braces(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut in_class = false;
    let mut escaped = false;
    for c in pattern.chars() {
        if escaped {
            out.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                out.push(c);
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '{' | '}' if !in_class => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(dockerignore, path, ignored)`.
    const CASES: &[(&str, &str, bool)] = &[
        // plain names and directories (a matched parent takes its children with it)
        ("node_modules", "node_modules", true),
        ("node_modules", "node_modules/a/b.js", true),
        ("node_modules", "src/node_modules", false),
        ("/node_modules/", "node_modules/x", true),
        ("./build", "build/out.o", true),
        // `*` and `?` stay within one component
        ("*.pyc", "a.pyc", true),
        ("*.pyc", "src/a.pyc", false),
        ("*/*.pyc", "src/a.pyc", true),
        ("?.txt", "a.txt", true),
        ("?.txt", "ab.txt", false),
        // `**` crosses directories, including none
        ("**/*.pyc", "a.pyc", true),
        ("**/*.pyc", "src/deep/a.pyc", true),
        ("**/__pycache__", "x/y/__pycache__/m.pyc", true),
        ("docs/**", "docs/a/b.md", true),
        ("docs/**", "src/docs/a.md", false),
        // exceptions, last match wins
        ("*.md\n!README.md", "README.md", false),
        ("*.md\n!README.md", "CHANGES.md", true),
        ("*.md\n!README.md\nREADME.md", "README.md", true),
        ("data\n!data/keep.txt", "data/keep.txt", false),
        ("data\n!data/keep.txt", "data/drop.txt", true),
        ("*\n!app.py", "app.py", false),
        ("*\n!app.py", "other.py", true),
        // comments, blank lines, whitespace
        ("# secret.txt\n\n  secret.txt  ", "secret.txt", true),
        ("# secret.txt", "secret.txt", false),
        // character classes and escapes
        ("file[0-9].txt", "file7.txt", true),
        ("file[^0-9].txt", "file7.txt", false),
        ("file[!0-9].txt", "filex.txt", true),
        ("\\*.txt", "*.txt", true),
        ("\\*.txt", "a.txt", false),
        // braces are literal in Docker
        ("{a,b}.txt", "a.txt", false),
        ("{a,b}.txt", "{a,b}.txt", true),
        // nothing matches, nothing ignored
        ("", "anything", false),
    ];

    #[test]
    fn dockerignore_matching_table() {
        for (ignore, path, want) in CASES {
            let parsed = DockerIgnore::parse(ignore).expect("pattern parses");
            assert_eq!(
                parsed.is_ignored(path),
                *want,
                ".dockerignore {ignore:?}, path {path:?}"
            );
        }
    }

    #[test]
    fn exceptions_are_reported() {
        assert!(!DockerIgnore::parse("a\nb")
            .expect("parses")
            .has_exceptions());
        assert!(DockerIgnore::parse("a\n!b")
            .expect("parses")
            .has_exceptions());
    }

    #[test]
    fn an_unclosed_class_is_an_error() {
        let err = DockerIgnore::parse("file[0-9").expect_err("unclosed class");
        assert_eq!(err.pattern, "file[0-9");
    }
}
