//! What to build: [`ImageSpec`], the plain-data form of an Image function's `Metadata`
//! (`Dockerfile`, `DockerContext`, `DockerBuildArgs`, `DockerBuildTarget`, `DockerTag`) and
//! its `Architectures`, and the tag SAM gives the image.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// How to build one function's image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSpec {
    /// The function's logical id; the image is tagged after it, as SAM does.
    pub logical_id: String,
    /// The directory sent to the engine as the build context.
    pub context_dir: PathBuf,
    /// The Dockerfile, relative to `context_dir` (`Metadata.Dockerfile`).
    pub dockerfile: String,
    /// `Metadata.DockerBuildArgs`; a BTreeMap so the content hash does not depend on order.
    pub build_args: BTreeMap<String, String>,
    /// `Metadata.DockerBuildTarget`: the stage to stop at.
    pub target: Option<String>,
    /// `linux/amd64` or `linux/arm64`, see [`platform_for_architecture`].
    pub platform: Option<String>,
    /// `Metadata.DockerTag`; `latest` when absent.
    pub tag: Option<String>,
}

impl ImageSpec {
    /// SAM's tag: `<logical id lowercased>:<DockerTag or latest>`
    /// (aws-sam-cli `app_builder.py` `_build_lambda_image`).
    pub fn image_tag(&self) -> String {
        let tag = self
            .tag
            .as_deref()
            .filter(|t| !t.is_empty())
            .unwrap_or("latest");
        format!("{}:{}", self.logical_id.to_lowercase(), tag)
    }
}

/// The Docker platform for a Lambda architecture (`Architectures: [x86_64|arm64]`); `None` for
/// anything else so the engine's default applies.
pub fn platform_for_architecture(architecture: &str) -> Option<&'static str> {
    match architecture {
        "x86_64" => Some("linux/amd64"),
        "arm64" => Some("linux/arm64"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(logical_id: &str, tag: Option<&str>) -> ImageSpec {
        ImageSpec {
            logical_id: logical_id.to_string(),
            context_dir: PathBuf::from("."),
            dockerfile: "Dockerfile".to_string(),
            build_args: BTreeMap::new(),
            target: None,
            platform: None,
            tag: tag.map(str::to_string),
        }
    }

    #[test]
    fn image_tag_is_lowercased_logical_id_and_docker_tag_or_latest() {
        let cases = [
            ("ImgFunction", None, "imgfunction:latest"),
            (
                "ImgFunction",
                Some("python3.11-v1"),
                "imgfunction:python3.11-v1",
            ),
            ("HelloWorldFunction", Some(""), "helloworldfunction:latest"),
            ("lower", Some("v2"), "lower:v2"),
        ];
        for (id, tag, want) in cases {
            assert_eq!(spec(id, tag).image_tag(), want, "{id} {tag:?}");
        }
    }

    #[test]
    fn platform_follows_architectures() {
        assert_eq!(platform_for_architecture("x86_64"), Some("linux/amd64"));
        assert_eq!(platform_for_architecture("arm64"), Some("linux/arm64"));
        assert_eq!(platform_for_architecture("mips"), None);
    }
}
