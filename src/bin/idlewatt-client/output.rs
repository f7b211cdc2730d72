//! Printing: one JSON document on stdout with `--json` (errors as
//! `{"error": {"kind", "message", "status", "payment"}}`), text for people otherwise; a
//! progress bar on stderr only when it is a terminal and `--json` is off.

use std::io::IsTerminal;

use idlewatt::client::ClientApiError;
use idlewatt::network::ClientError;
use idlewatt_protocol::client::ClientJob;
use serde::Serialize;

/// An argument that does not parse (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadArgument(pub String);

/// Prints `value` as pretty JSON on stdout.
pub fn json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints an error: one line on stderr; with `json`, also a JSON document on stdout.
pub fn error(err: &anyhow::Error, json: bool) {
    let message = format!("{err:#}").replace('\n', " ");
    eprintln!("idlewatt-client: {message}");
    if json {
        let api = err.chain().find_map(|c| c.downcast_ref::<ClientApiError>());
        let (kind, status, payment) = match api {
            Some(ClientApiError::PaymentRequired { payment, .. }) => {
                ("payment_required".to_owned(), Some(402), serde_json::to_value(payment).ok())
            }
            Some(ClientApiError::Request(ClientError::Api { status, kind, .. })) => (
                serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
                Some(*status),
                None,
            ),
            Some(ClientApiError::JobEnded { .. }) => ("job_ended".to_owned(), None, None),
            Some(ClientApiError::Timeout { .. }) => ("timeout".to_owned(), None, None),
            _ => ("error".to_owned(), None, None),
        };
        let doc =
            serde_json::json!({ "error": { "kind": kind, "message": message, "status": status, "payment": payment } });
        println!("{doc}");
    }
}

/// A progress bar of a job's verified units, hidden when not on a terminal or `json`.
pub fn job_bar(json: bool) -> anyhow::Result<indicatif::ProgressBar> {
    if json || !std::io::stderr().is_terminal() {
        return Ok(indicatif::ProgressBar::hidden());
    }
    let bar = indicatif::ProgressBar::new(1);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({elapsed})")?.progress_chars("=> "),
    );
    Ok(bar)
}

/// Moves the bar to where `job` is.
pub fn show_progress(bar: &indicatif::ProgressBar, job: &ClientJob) {
    bar.set_length(job.progress.total.max(1));
    bar.set_position(job.progress.done);
    bar.set_message(status(job).to_owned());
}

/// The job's status as one word (`queued`, `running`, `done`, …).
pub fn status(job: &ClientJob) -> String {
    serde_json::to_value(job.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// One line for people.
pub fn job_line(job: &ClientJob) -> String {
    let what = match (&job.matmul, &job.model) {
        (Some(s), _) => format!("matmul {}x{}x{} {}", s.m, s.n, s.k, s.precision.as_str()),
        (None, Some(model)) => format!("embeddings {model}"),
        _ => "job".to_owned(),
    };
    let mut line = format!(
        "{}  {what}  {:<9} {}/{}  price {}  paid {}  refunded {}",
        job.id,
        status(job),
        job.progress.done,
        job.progress.total,
        job.price.to_token_string(),
        job.cost_so_far.to_token_string(),
        job.refunded.to_token_string()
    );
    if let Some(reason) = &job.reason {
        line.push_str(&format!("  ({reason})"));
    }
    line
}
