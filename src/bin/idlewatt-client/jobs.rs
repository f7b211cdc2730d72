//! `matmul`, `embed`, `jobs`, `job` and `cancel`: submit work and collect it. `matmul`
//! and `embed` upload the inputs, submit with a maximum price (the current quote unless
//! `--max-price` says otherwise; the quote is held in escrow), follow the job with a
//! progress bar, and write the verified result as `.npy`.

use std::path::PathBuf;
use std::time::Duration;

use idlewatt::client::work;
use idlewatt_protocol::{Precision, TokenAmount};

use super::output::{self, BadArgument};
use super::session::{Options, with_api};

/// `--precision`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum PrecisionArg {
    /// 32-bit floats (`<f4`).
    F32,
    /// 16-bit floats (`<f2`), computed with f32 accumulation.
    F16,
}

#[derive(clap::Args, Debug)]
pub struct MatmulArgs {
    /// A (m×k) as .npy: little-endian float32 or float16, C order, 2-D.
    #[arg(long)]
    a: PathBuf,
    /// B (k×n) as .npy, same dtype as A.
    #[arg(long)]
    b: PathBuf,
    /// Where to write C (m×n, float32 .npy).
    #[arg(long)]
    out: PathBuf,
    /// The inputs' precision (default: A's dtype).
    #[arg(long, value_enum)]
    precision: Option<PrecisionArg>,
    /// The most you will pay, in tokens (default: the current quote).
    #[arg(long)]
    max_price: Option<String>,
    /// Seconds to wait for the result.
    #[arg(long, default_value_t = 600)]
    wait: u64,
}

#[derive(clap::Args, Debug)]
pub struct EmbedArgs {
    /// A model the network serves (see GET /v1/models).
    #[arg(long)]
    model: String,
    /// A text file: one text per line (empty lines are skipped).
    #[arg(long = "in")]
    input: PathBuf,
    /// Where to write the vectors (texts × dimensions, float32 .npy).
    #[arg(long)]
    out: PathBuf,
    /// The most you will pay, in tokens (default: a ceiling from the price list).
    #[arg(long)]
    max_price: Option<String>,
    /// Seconds to wait for the result.
    #[arg(long, default_value_t = 600)]
    wait: u64,
}

fn max_price(s: Option<&str>) -> anyhow::Result<Option<TokenAmount>> {
    s.map(|s| TokenAmount::from_token_str(s).map_err(|e| BadArgument(format!("--max-price {s:?}: {e}")).into()))
        .transpose()
}

/// `matmul --a A.npy --b B.npy --out C.npy`.
pub fn matmul(o: &Options, args: &MatmulArgs) -> anyhow::Result<()> {
    let a = work::read_file(&args.a)?;
    let b = work::read_file(&args.b)?;
    let max = max_price(args.max_price.as_deref())?;
    let precision = args.precision.map(|p| match p {
        PrecisionArg::F32 => Precision::F32,
        PrecisionArg::F16 => Precision::F16,
    });
    let bar = output::job_bar(o.json)?;
    let wait = Duration::from_secs(args.wait);
    let job = with_api(o, |api, _| async move {
        bar.set_message("uploading");
        let inputs = work::upload_matmul(&api, &a, &b).await?;
        let job = work::submit_matmul(&api, &inputs, precision, max).await?;
        bar.println(format!("job {} submitted: price {} tokens held in escrow", job.id, job.price.to_token_string()));
        let done = work::follow(&api, &job.id, wait, |j| output::show_progress(&bar, j)).await?;
        let c = api.result(&done.id).await?;
        work::write_file(&args.out, &c)?;
        bar.finish_and_clear();
        anyhow::Ok(done)
    })?;
    if o.json {
        return output::json(&serde_json::json!({ "job": job, "out": args.out }));
    }
    println!("{}", output::job_line(&job));
    println!("C written to {}", args.out.display());
    Ok(())
}

/// `embed --model M --in lines.txt --out vectors.npy`.
pub fn embed(o: &Options, args: &EmbedArgs) -> anyhow::Result<()> {
    let text = String::from_utf8(work::read_file(&args.input)?)
        .map_err(|_| BadArgument(format!("{} is not UTF-8 text", args.input.display())))?;
    let texts = work::lines_to_embed(&text);
    let max = max_price(args.max_price.as_deref())?;
    let bar = output::job_bar(o.json)?;
    let wait = Duration::from_secs(args.wait);
    let job = with_api(o, |api, _| async move {
        let job = work::submit_embeddings(&api, &args.model, texts, max).await?;
        bar.println(format!("job {} submitted: price {} tokens held in escrow", job.id, job.price.to_token_string()));
        let done = work::follow(&api, &job.id, wait, |j| output::show_progress(&bar, j)).await?;
        let vectors = api.result(&done.id).await?;
        work::write_file(&args.out, &vectors)?;
        bar.finish_and_clear();
        anyhow::Ok(done)
    })?;
    if o.json {
        return output::json(&serde_json::json!({ "job": job, "out": args.out }));
    }
    println!("{}", output::job_line(&job));
    println!("vectors written to {}", args.out.display());
    Ok(())
}

/// `jobs`.
pub fn list(o: &Options) -> anyhow::Result<()> {
    let jobs = with_api(o, |api, _| async move { anyhow::Ok(api.jobs().await?) })?;
    if o.json {
        return output::json(&jobs);
    }
    if jobs.is_empty() {
        println!("no jobs yet");
    }
    for j in &jobs {
        println!("{}", output::job_line(j));
    }
    Ok(())
}

/// `job ID`.
pub fn show(o: &Options, id: &str) -> anyhow::Result<()> {
    let job = with_api(o, |api, _| async move { anyhow::Ok(api.job(id).await?) })?;
    if o.json {
        return output::json(&job);
    }
    println!("{}", output::job_line(&job));
    if let Some(url) = &job.result_url {
        println!("result: {url}");
    }
    Ok(())
}

/// `cancel ID`.
pub fn cancel(o: &Options, id: &str) -> anyhow::Result<()> {
    let job = with_api(o, |api, _| async move { anyhow::Ok(api.cancel(id).await?) })?;
    if o.json {
        return output::json(&job);
    }
    println!("{}", output::job_line(&job));
    Ok(())
}
