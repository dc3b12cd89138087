//! Flags shared by every command that reads a template (`-t`, `--parameter-overrides`).

use std::path::PathBuf;

#[derive(clap::Args, Clone, Debug, Default)]
pub struct TemplateArgs {
    /// The SAM template (default: template.yaml, then template.yml, in the current directory).
    #[arg(short = 't', long = "template", alias = "template-file", value_name = "PATH")]
    pub template: Option<PathBuf>,

    /// Parameter values: `Key=Value Key2=Value2` or `ParameterKey=K,ParameterValue=V`.
    #[arg(long = "parameter-overrides", num_args = 1.., value_name = "OVERRIDES")]
    pub parameter_overrides: Vec<String>,

    /// samconfig.toml to read parameter overrides from (default: next to the template).
    #[arg(long = "config-file", value_name = "PATH")]
    pub config_file: Option<PathBuf>,

    /// The samconfig.toml environment to use.
    #[arg(long = "config-env", default_value = "default", value_name = "ENV")]
    pub config_env: String,

    /// AWS region the template is resolved for (AWS::Region).
    #[arg(long = "region", env = "AWS_REGION", value_name = "REGION")]
    pub region: Option<String>,
}

impl TemplateArgs {
    /// The template path: `-t`, else `template.yaml` / `template.yml` in the current directory.
    pub fn template_path(&self) -> anyhow::Result<PathBuf> {
        if let Some(t) = &self.template {
            if t.is_dir() {
                return ssam_template::find_template(t).ok_or_else(|| {
                    anyhow::anyhow!("no template.yaml or template.yml in {}", t.display())
                });
            }
            return Ok(t.clone());
        }
        let cwd = std::env::current_dir()?;
        ssam_template::find_template(&cwd).ok_or_else(|| {
            anyhow::anyhow!(
                "no template.yaml or template.yml in {}\n  hint: pass the template with -t PATH",
                cwd.display()
            )
        })
    }
}
