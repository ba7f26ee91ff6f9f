//! `verify --policy`, `policy test` and `policy export`: thin wrappers over
//! `signet-policy`, which holds every decision.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, anyhow};
use futures_util::StreamExt;
use futures_util::stream;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use signet_oci::{Reference, RepositoryRef};
use signet_policy::dry_run::{self, Progress as DryRunProgress, Report};
use signet_policy::export::{self, ExportOptions, Format};
use signet_policy::{Decision, Evaluator, FailedCheck, Outcome, Policy};

use crate::args::{
    ExportFormat, OutputFormat, PolicyCommand, PolicyExportArgs, PolicyTestArgs, VerifyArgs,
};
use crate::exit::{self, Batch, Failure};
use crate::output;
use crate::progress::Progress;

pub async fn policy(command: PolicyCommand) -> Result<(), Failure> {
    match command {
        PolicyCommand::Test(args) => test(*args).await,
        PolicyCommand::Export(args) => export_policy(args).await,
    }
}

async fn evaluator(
    path: &Path,
    registry: &crate::args::RegistryArgs,
) -> Result<Evaluator, Failure> {
    let policy = Policy::load(path).await?;
    tracing::debug!(policy = %path.display(), hash = %policy.hash(), "policy loaded");
    let store = crate::registry::signature_store(registry)?;
    Ok(Evaluator::new(policy, store)?)
}

/// The exit code of a refusal, as `verify` uses them.
fn exit_code(check: FailedCheck) -> i32 {
    match check {
        FailedCheck::Unsigned => exit::NO_SIGNATURES,
        FailedCheck::ImageNotFound => exit::IMAGE_NOT_FOUND,
        FailedCheck::RegistryError => exit::OTHER,
        _ => exit::NO_MATCHING_SIGNATURE,
    }
}

/// `verify --policy FILE IMAGE...`: one decision per image; exit 0 when
/// every image is allowed or warned about.
pub async fn verify_with_policy(args: &VerifyArgs, path: &Path) -> Result<(), Failure> {
    let images = args
        .images
        .iter()
        .map(|i| i.parse::<Reference>().map_err(|e| anyhow!("{e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let evaluator = evaluator(path, &args.registry).await?;
    let progress = Progress::new(images.len(), "decided");
    let mut decisions: Vec<(usize, Decision)> = stream::iter(images.iter().enumerate())
        .map(|(i, image)| {
            let evaluator = &evaluator;
            async move { (i, evaluator.evaluate(image).await) }
        })
        .buffer_unordered(args.concurrency.max(1))
        .inspect(|(_, d)| progress.done(d.admits()))
        .collect()
        .await;
    progress.finish();
    decisions.sort_by_key(|(i, _)| *i);
    let decisions: Vec<Decision> = decisions.into_iter().map(|(_, d)| d).collect();
    match args.output {
        OutputFormat::Json | OutputFormat::Record => output::print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&decisions).context("decisions as JSON")?
        ))?,
        OutputFormat::Text => {
            let text: String = decisions.iter().map(decision_line).collect();
            output::print(&text)?;
        }
    }
    let mut batch = Batch::new(decisions.len());
    for d in &decisions {
        if let (Outcome::Warned, Some(f)) = (d.outcome, &d.failure) {
            eprintln!(
                "warning: {}: scope {:?} is in warn mode: {f}",
                d.image, d.scope
            );
        }
        if let (Outcome::Denied, Some(f)) = (d.outcome, &d.failure) {
            let verb = if f.undecided {
                "could not be decided"
            } else {
                "refused"
            };
            batch.fail(Failure::with_code(
                exit_code(f.check),
                anyhow!("{}: {verb} by scope {:?}: {f}", d.image, d.scope),
            ));
        }
    }
    batch.finish("refused by the policy")
}

fn decision_line(d: &Decision) -> String {
    let what = match &d.digest {
        Some(digest) => format!("{} ({digest})", d.image),
        None => d.image.clone(),
    };
    let outcome = match d.outcome {
        Outcome::Allowed => "ALLOWED",
        Outcome::Warned => "WARNED",
        Outcome::Denied if d.undecided() => "UNDECIDED",
        Outcome::Denied => "DENIED",
    };
    let why = match &d.failure {
        Some(f) => format!(": {f}"),
        None => {
            let by: Vec<String> = d
                .satisfied()
                .map(|(a, sig)| format!("{a} ({sig})"))
                .collect();
            format!(": signed by {}", by.join(", "))
        }
    };
    format!("{outcome} {what} [scope {}]{why}\n", d.scope)
}

/// A registry and a path: `registry.example:5000/team`.
fn project(s: &str) -> anyhow::Result<RepositoryRef> {
    let (registry, path) = s.split_once('/').ok_or_else(|| {
        anyhow!("{s:?}: give REGISTRY/PROJECT (a registry host and a repository path prefix)")
    })?;
    RepositoryRef::new(registry, path.trim_end_matches('/')).map_err(|e| anyhow!("{s:?}: {e}"))
}

/// A bar over the digests once they are known; a spinner while listing.
struct Bar(Option<ProgressBar>);

impl Bar {
    fn new() -> Self {
        Self(std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10));
            bar.enable_steady_tick(Duration::from_millis(200));
            bar.set_message("listing repositories");
            bar
        }))
    }

    fn update(&self, p: DryRunProgress) {
        let Some(bar) = &self.0 else { return };
        match p {
            DryRunProgress::Listing { repositories } => {
                bar.set_message(format!("listing the tags of {repositories} repositories"));
            }
            DryRunProgress::Deciding { total } => {
                bar.set_length(total as u64);
                bar.set_position(0);
                if let Ok(style) = ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} digests decided{msg} [{elapsed}]",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_message("");
            }
            DryRunProgress::Decided { .. } => bar.inc(1),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

async fn test(args: PolicyTestArgs) -> Result<(), Failure> {
    let projects = args
        .projects
        .iter()
        .map(|p| project(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let evaluator = evaluator(&args.policy, &args.registry).await?;
    let bar = Bar::new();
    let mut reports = Vec::with_capacity(projects.len());
    for p in &projects {
        let report = dry_run::dry_run(&evaluator, p, args.concurrency, &|e| bar.update(e))
            .await
            .with_context(|| format!("listing {p}"));
        match report {
            Ok(r) => reports.push(r),
            Err(e) => {
                bar.finish();
                return Err(e.into());
            }
        }
    }
    bar.finish();
    match args.output {
        OutputFormat::Json | OutputFormat::Record => output::print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&reports).context("report as JSON")?
        ))?,
        OutputFormat::Text => output::print(&reports.iter().map(report_text).collect::<String>())?,
    }
    let denied = reports
        .iter()
        .flat_map(|r| &r.digests)
        .filter(|d| d.decision.outcome == Outcome::Denied)
        .count();
    let errors: usize = reports.iter().map(|r| r.errors.len()).sum();
    if denied > 0 {
        return Err(Failure::with_code(
            exit::NO_MATCHING_SIGNATURE,
            anyhow!("{denied} digests would be refused"),
        ));
    }
    if errors > 0 {
        return Err(Failure::other(anyhow!(
            "{errors} repositories or tags could not be listed"
        )));
    }
    Ok(())
}

fn report_text(r: &Report) -> String {
    let mut out = String::new();
    for d in &r.digests {
        let Some(f) = &d.decision.failure else {
            continue;
        };
        let outcome = match d.decision.outcome {
            Outcome::Warned => "WARN  ",
            _ if f.undecided => "UNDECIDED",
            _ => "REFUSE",
        };
        let named = if d.tags.is_empty() {
            match &d.index {
                Some(i) => format!("listed by index {i}"),
                None => "untagged".to_owned(),
            }
        } else {
            format!("tags: {}", d.tags.join(", "))
        };
        out.push_str(&format!(
            "{outcome} {}@{} ({named}) [scope {}]: {f}\n",
            d.repository, d.digest, d.decision.scope
        ));
    }
    for e in &r.errors {
        out.push_str(&format!("ERROR  {}: {}\n", e.what, e.error));
    }
    let (allowed, warned, denied) = r.counts();
    out.push_str(&format!(
        "{}: {} repositories, {} tags, {} digests: {allowed} allowed, {warned} warned, {denied} refused; {} signature artefacts skipped\n",
        r.project,
        r.repositories,
        r.tags,
        r.digests.len(),
        r.skipped_artefacts
    ));
    out
}

async fn export_policy(args: PolicyExportArgs) -> Result<(), Failure> {
    let policy = Policy::load(&args.policy).await?;
    let format = match args.format {
        ExportFormat::ContainersPolicy => Format::ContainersPolicy,
        ExportFormat::ClusterImagePolicy => Format::ClusterImagePolicy,
    };
    let result = export::export(
        &policy,
        format,
        ExportOptions {
            allow_narrower: args.allow_narrower,
        },
    );
    match result {
        Ok(exported) => {
            for note in &exported.notes {
                eprintln!("warning: {note}");
            }
            output::print(&exported.document)?;
            Ok(())
        }
        Err(export::ExportError::NotExpressible { target, notes }) => {
            for note in &notes {
                eprintln!("error: {note}");
            }
            let narrower_only = notes.iter().all(|n| n.kind == export::NoteKind::Narrower);
            Err(Failure::other(anyhow!(
                "{target} cannot express this policy without {}; nothing written{}",
                if narrower_only {
                    "narrowing it"
                } else {
                    "widening trust"
                },
                if narrower_only {
                    " (--allow-narrower writes the narrower approximation)"
                } else {
                    ""
                }
            )))
        }
        Err(e) => Err(e.into()),
    }
}
