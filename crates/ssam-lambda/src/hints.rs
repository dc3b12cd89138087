//! Hints for init failures a developer running from source hits first: a dependency that is
//! declared (requirements.txt, package.json) but not installed next to the code.

use std::path::Path;

use crate::spec::{FunctionSpec, RuntimeKind};

/// Whether `host` resolves on this machine.
fn resolves(host: &str) -> bool {
    use std::net::ToSocketAddrs as _;
    (host, 0u16)
        .to_socket_addrs()
        .is_ok_and(|mut a| a.next().is_some())
}

/// The module an import error names: `No module named 'x'` / `Cannot find module 'x'`.
fn missing_module(message: &str) -> Option<&str> {
    for marker in ["No module named '", "Cannot find module '"] {
        if let Some(rest) = message.split(marker).nth(1) {
            return rest.split('\'').next();
        }
    }
    None
}

/// Package names as written in requirements.txt (`name==1.2`, `name[extra]>=1`, comments).
fn requirement_names(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines().filter_map(|l| {
        let l = l.split('#').next()?.trim();
        if l.is_empty() || l.starts_with('-') {
            return None;
        }
        let end = l
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
            .unwrap_or(l.len());
        Some(l[..end].to_ascii_lowercase().replace('_', "-"))
    })
}

fn declared_in_requirements(code_dir: &Path, module: &str) -> bool {
    let Ok(text) = std::fs::read_to_string(code_dir.join("requirements.txt")) else {
        return false;
    };
    // Import names and distribution names differ in case and `-`/`_` only, commonly.
    let top = module
        .split('.')
        .next()
        .unwrap_or(module)
        .to_ascii_lowercase()
        .replace('_', "-");
    let found = requirement_names(&text).any(|n| n == top);
    found
}

fn declared_in_package_json(code_dir: &Path, module: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Package {
        #[serde(default)]
        dependencies: indexmap::IndexMap<String, serde::de::IgnoredAny>,
    }
    let Ok(text) = std::fs::read_to_string(code_dir.join("package.json")) else {
        return false;
    };
    let Ok(pkg) = serde_json::from_str::<Package>(&text) else {
        return false;
    };
    // `@scope/name/sub` and `name/sub` are packages `@scope/name` and `name`.
    let mut parts = module.split('/');
    let name = match parts.next() {
        Some(scope) if scope.starts_with('@') => format!("{scope}/{}", parts.next().unwrap_or("")),
        Some(n) => n.to_string(),
        None => return false,
    };
    pkg.dependencies.contains_key(&name)
}

/// A one-line hint for an init error, when ssam can tell what is wrong.
pub(crate) fn init_hint(spec: &FunctionSpec, error_type: &str, body: &[u8]) -> Option<String> {
    if error_type.starts_with("Extension.") && !resolves(crate::telemetry::SANDBOX_HOST) {
        return Some(format!(
            "extensions often listen on {host} (the execution environment's name on Lambda), which \
             this machine cannot resolve: ssam delivers telemetry for {host} to 127.0.0.1, so an \
             extension may listen on 127.0.0.1 (or 0.0.0.0); or add `127.0.0.1 {host}` to /etc/hosts",
            host = crate::telemetry::SANDBOX_HOST
        ));
    }
    if error_type != "Runtime.ImportModuleError" {
        return None;
    }
    let message = String::from_utf8_lossy(body);
    let module = missing_module(&message)?;
    let dir = spec.code_dir.display();
    match spec.runtime_kind() {
        RuntimeKind::Python { .. } if declared_in_requirements(&spec.code_dir, module) => Some(format!(
            "{module} is in {dir}/requirements.txt but not installed for the function: run `ssam build`, \
             or `pip install -r requirements.txt -t {dir}`"
        )),
        RuntimeKind::Node { .. } if declared_in_package_json(&spec.code_dir, module) => Some(format!(
            "{module} is in {dir}/package.json but not installed: run `npm install` in {dir} (or `ssam build`)"
        )),
        _ => None,
    }
}

/// A one-line hint for a failed invocation, when ssam can say what to change: the Timeout,
/// the MemorySize, the response size, or a dependency missing at init.
pub(crate) fn failure_hint(
    spec: &FunctionSpec,
    kind: crate::outcome::FailureKind,
    body: &[u8],
) -> Option<String> {
    use crate::outcome::FailureKind;
    let error_type = crate::outcome::error_type_of(body).unwrap_or_default();
    match kind {
        FailureKind::Timeout => Some(format!(
            "the function ran past its Timeout of {:.0} s and was stopped; raise Timeout in \
             the template, or find what the handler waits on",
            spec.timeout.as_secs_f64()
        )),
        FailureKind::Crash if error_type == "Runtime.OutOfMemory" => Some(format!(
            "the function used more than its MemorySize of {} MB and was stopped; raise \
             MemorySize in the template, or process the data in smaller pieces",
            spec.memory_mb
        )),
        FailureKind::ResponseTooLarge => Some(crate::limits::OVERSIZE_HINT.to_string()),
        FailureKind::Init => init_hint(spec, &error_type, body),
        FailureKind::Crash | FailureKind::Function if out_of_space(body) => Some(format!(
            "the function filled its /tmp: as on Lambda it holds EphemeralStorage, {} MB \
             here; raise EphemeralStorage.Size in the template (up to 10240), or delete what \
             it writes to /tmp when done (it lasts as long as the instance)",
            spec.ephemeral_storage_mb
        )),
        FailureKind::Crash | FailureKind::Function => None,
    }
}

/// Whether an error document is a full filesystem (Python's `[Errno 28] No space left on
/// device`, Node's `ENOSPC: no space left on device`).
fn out_of_space(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    text.contains("No space left on device")
        || text.contains("no space left on device")
        || text.contains("ENOSPC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_tmp_names_ephemeral_storage() {
        let mut spec = FunctionSpec::new("F", "python3.12", "app.handler", Path::new("."));
        spec.ephemeral_storage_mb = 700;
        let python =
            br#"{"errorMessage": "[Errno 28] No space left on device", "errorType": "OSError"}"#;
        let hint =
            failure_hint(&spec, crate::outcome::FailureKind::Function, python).expect("a hint");
        assert!(
            hint.contains("700 MB") && hint.contains("EphemeralStorage"),
            "{hint}"
        );
        let node =
            br#"{"errorType":"Error","errorMessage":"ENOSPC: no space left on device, write"}"#;
        assert!(failure_hint(&spec, crate::outcome::FailureKind::Function, node).is_some());
        let other = br#"{"errorMessage": "boom", "errorType": "ValueError"}"#;
        assert!(failure_hint(&spec, crate::outcome::FailureKind::Function, other).is_none());
    }

    #[test]
    fn names_the_missing_dependency() {
        let dir = std::env::temp_dir().join(format!("ssam-hints-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(
            dir.join("requirements.txt"),
            "# deps\nPyYAML==6.0\nrequests[socks]>=2\n",
        )
        .expect("write");
        let spec = FunctionSpec::new("F", "python3.12", "app.handler", &dir);
        let body = br#"{"errorMessage": "Unable to import module 'app': No module named 'requests'", "errorType": "Runtime.ImportModuleError"}"#;
        let hint = init_hint(&spec, "Runtime.ImportModuleError", body).expect("a hint");
        assert!(hint.starts_with("requests is in "), "{hint}");
        let other =
            br#"{"errorMessage": "Unable to import module 'app': No module named 'nothere'"}"#;
        assert!(init_hint(&spec, "Runtime.ImportModuleError", other).is_none());
        std::fs::write(
            dir.join("package.json"),
            r#"{"dependencies": {"@aws-sdk/client-s3": "^3"}}"#,
        )
        .expect("write");
        let node = FunctionSpec::new("N", "nodejs20.x", "app.handler", &dir);
        let body = br#"{"errorMessage": "Error: Cannot find module '@aws-sdk/client-s3'"}"#;
        assert!(init_hint(&node, "Runtime.ImportModuleError", body).is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
