//! `ssam build`: packages the template's functions and layers as `sam build` does, into
//! `.aws-sam/build/<LogicalId>/`, and writes `.aws-sam/build/template.yaml` pointing at
//! them. Units whose inputs did not change are skipped; Python dependencies come from a
//! cache keyed by the manifest (the work itself is in `ssam-build`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use ssam_build::BuildRequest;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub template: super::common::TemplateArgs,

    /// Build only these functions (and the layers they use); default: everything.
    #[arg(value_name = "FUNCTION")]
    pub resources: Vec<String>,

    /// Where the artifacts and the built template go.
    #[arg(
        short = 'b',
        long = "build-dir",
        default_value = ".aws-sam/build",
        value_name = "DIR"
    )]
    pub build_dir: PathBuf,

    /// Leave this resource out (repeatable).
    #[arg(long = "exclude", value_name = "LOGICAL_ID")]
    pub exclude: Vec<String>,

    /// Rebuild every unit even when nothing it reads changed.
    #[arg(long = "no-cached", overrides_with = "cached")]
    pub no_cached: bool,

    /// Skip units whose inputs did not change (the default).
    #[arg(long = "cached")]
    pub cached: bool,

    /// Build one unit at a time.
    #[arg(long = "no-parallel", overrides_with = "parallel")]
    pub no_parallel: bool,

    /// Build units at the same time (the default).
    #[arg(long = "parallel")]
    pub parallel: bool,

    /// Rebuild Image functions' images even when their inputs did not change.
    #[arg(long = "force-image-build")]
    pub force_image_build: bool,

    /// A dependency manifest to use instead of each function's own, as `sam build
    /// --manifest`: a `*.json` (package.json) for nodejs functions, any other file
    /// (requirements.txt) for python ones.
    #[arg(short = 'm', long = "manifest", value_name = "FILE")]
    pub manifest: Option<PathBuf>,
}

pub fn run(mut args: Args) -> anyhow::Result<ExitCode> {
    args.template.source_only = true;
    let app = super::common::load_app(&args.template, "build")?;
    // Local nested stacks are built as `sam build` builds them: their functions below
    // `<build dir>/<Child>/`, their template rewritten to `<build dir>/<Child>/template.yaml`.
    let mut nested = Vec::new();
    for n in &app.nested_stacks {
        let mut diags = ssam_template::Diagnostics::default();
        let child = ssam_template::node::parse_file(&n.template_path, &mut diags)
            .ok_or_else(|| anyhow::anyhow!("cannot read {}", n.template_path.display()))?;
        nested.push(ssam_build::run::NestedTemplate {
            logical_id: n.logical_id.clone(),
            template: child.root.to_json(),
            template_dir: n
                .template_path
                .parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default(),
        });
    }
    let mut diags = ssam_template::Diagnostics::default();
    let source = ssam_template::node::parse_file(&app.template_path, &mut diags)
        .ok_or_else(|| anyhow::anyhow!("cannot read {}", app.template_path.display()))?;
    let (units, not_built) = ssam_build::plan(&app, &args.resources, &args.exclude);
    let unknown = args.resources.iter().find(|r| {
        !app.functions.iter().any(|f| &f.logical_id == *r)
            && !app.layers.iter().any(|l| &l.logical_id == *r)
    });
    if let Some(unknown) = unknown {
        anyhow::bail!(
            "no function or layer {unknown} in {}",
            app.template_path.display()
        );
    }
    for n in &not_built {
        tracing::info!("{} is not built: {}", n.logical_id, n.reason);
    }
    let build_dir = std::env::current_dir()?.join(&args.build_dir);
    let manifest = match &args.manifest {
        Some(m) if !m.is_file() => anyhow::bail!(
            "the manifest {} does not exist; hint: give --manifest a requirements.txt or package.json path relative to the current directory",
            m.display()
        ),
        Some(m) => Some(std::env::current_dir()?.join(m)),
        None => None,
    };
    let needs_docker = units
        .iter()
        .any(|u| matches!(u.kind, ssam_build::UnitKind::Image(_)));
    let runtime = super::common::runtime()?;
    runtime.block_on(async move {
        let (docker, docker_error) = if needs_docker {
            match ssam_docker::Docker::connect().await {
                Ok(d) => (Some(d), None),
                Err(e) => (None, Some(e.to_string())),
            }
        } else {
            (None, None)
        };
        let request = Arc::new(BuildRequest {
            template_dir: app.base_dir.clone(),
            template: source.root.to_json(),
            build_dir: build_dir.clone(),
            cache_dir: ssam_lambda::default_cache_dir(),
            use_cache: !args.no_cached,
            parallel: !args.no_parallel,
            force_image_build: args.force_image_build,
            docker,
            docker_error,
            manifest,
            nested,
        });
        let names: Vec<Vec<String>> = units.iter().map(|u| u.resources.clone()).collect();
        let view = Arc::new(super::build_view::BuildView::new(&names));
        let on_progress: ssam_build::OnProgress = {
            let view = Arc::clone(&view);
            Arc::new(move |resource: &str, event| view.progress(resource, event))
        };
        let report = ssam_build::build(request, units, on_progress)
            .await
            .context("the build failed")?;
        let shown = args.build_dir.display();
        if report.failed() {
            eprintln!("\nBuild Failed (the other units were built; the template points the failed ones at their sources)");
            return Ok(ExitCode::FAILURE);
        }
        eprintln!("\nBuild Succeeded\n\nBuilt Artifacts  : {shown}\nBuilt Template   : {shown}/template.yaml\n");
        eprintln!("Commands you can use next\n=========================\n[*] Invoke Function: ssam local invoke -t {shown}/template.yaml\n[*] Start API: ssam local start-api -t {shown}/template.yaml\n[*] Deploy: sam deploy --guided");
        Ok(ExitCode::SUCCESS)
    })
}
