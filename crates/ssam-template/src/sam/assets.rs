//! CDK assets: where `cdk synth` staged a resource's code, read from the resource's
//! `aws:asset:*` metadata (AWS CDK's "code asset metadata" design, aws/aws-cdk#1433, written
//! for SAM CLI: `aws:asset:path` is the staged file or directory, relative to the template's
//! directory; `aws:asset:property` the property the asset replaces, `Code` for functions,
//! `Content` for layers, `TemplateURL` for nested stacks; Docker image assets add
//! `aws:asset:dockerfile-path`, `aws:asset:docker-build-args`, `aws:asset:docker-build-target`).

use indexmap::IndexMap;

use crate::node::Node;

/// The `aws:asset:*` metadata of one resource.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CdkAsset {
    /// `aws:asset:path` as written (relative to the template's directory, or absolute).
    pub path: String,
    /// `aws:asset:property`: the property the asset stands for.
    pub property: Option<String>,
    /// Set for Docker image assets (`aws:asset:dockerfile-path`, default `Dockerfile`).
    pub docker: Option<DockerAsset>,
}

/// How CDK builds a Docker image asset (the context is [`CdkAsset::path`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct DockerAsset {
    pub dockerfile: String,
    pub build_args: IndexMap<String, String>,
    pub build_target: Option<String>,
}

impl CdkAsset {
    /// The asset of a resource whose `Metadata` names one; `None` otherwise.
    pub fn of(resource: &Node) -> Option<CdkAsset> {
        let meta = resource.get("Metadata")?;
        let path = meta.get("aws:asset:path").and_then(Node::scalar_text)?;
        if path.is_empty() {
            return None;
        }
        let property = meta.get("aws:asset:property").and_then(Node::scalar_text);
        let dockerfile = meta
            .get("aws:asset:dockerfile-path")
            .and_then(Node::scalar_text);
        let build_args = meta.get("aws:asset:docker-build-args");
        let build_target = meta
            .get("aws:asset:docker-build-target")
            .and_then(Node::scalar_text);
        let docker =
            (dockerfile.is_some() || build_args.is_some() || build_target.is_some()).then(|| {
                DockerAsset {
                    dockerfile: dockerfile.unwrap_or_else(|| "Dockerfile".to_string()),
                    build_args: build_args
                        .and_then(Node::as_map)
                        .map(|m| {
                            m.iter()
                                .filter_map(|(k, v)| Some((k.to_string(), v.scalar_text()?)))
                                .collect()
                        })
                        .unwrap_or_default(),
                    build_target,
                }
            });
        Some(CdkAsset {
            path,
            property,
            docker,
        })
    }

    /// Whether the asset stands for `property` or a part of it (`Code.ImageUri` is part of
    /// `Code`); an asset without `aws:asset:property` is taken to be the resource's code.
    pub fn replaces(&self, property: &str) -> bool {
        self.property.as_deref().is_none_or(|p| {
            p == property
                || p.strip_prefix(property)
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    }
}

/// A CDK asset's S3 key (`<sha256>.zip`, or `<sha256>.json` for a nested stack) → the
/// directory or file `cdk synth` staged it as beside the template (`asset.<sha256>`,
/// `asset.<sha256>.zip`): what locates the code when a template was synthesised without
/// asset metadata (`App()` without `aws:cdk:enable-asset-metadata`, `cdk synth --no-asset-metadata`).
pub(crate) fn staged_asset_name(s3_key: &str) -> Option<String> {
    let hash = s3_key
        .strip_suffix(".zip")
        .or_else(|| s3_key.strip_suffix(".jar"))
        .unwrap_or(s3_key);
    (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("asset.{hash}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_asset_name_only_for_cdk_hashes() {
        let h = "e97a4b5e49648178ec274b84d69a91a42097afdede2454552ff99577b4cf283a";
        assert_eq!(
            staged_asset_name(&format!("{h}.zip")),
            Some(format!("asset.{h}"))
        );
        assert_eq!(staged_asset_name("code/app.zip"), None);
        assert_eq!(staged_asset_name(""), None);
    }
}
