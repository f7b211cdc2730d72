//! The node loop with real parts: lavapipe for the GPU, Xvfb + xdotool for the owner.
//! The owner leaves → the node computes; the owner returns → the GPU is given back within
//! milliseconds and the job kept; the owner leaves again → the job resumes where it
//! stopped; a restart resumes it from disk; without idle detection the node never guesses.
//! The first session tunes the kernels and caches the choice; later sessions reuse it.

mod util;

use std::time::Duration;

use idlewatt::compute::{AdapterPolicy, tuning};
use idlewatt::config::Settings;
use idlewatt::idle::{IdleError, IdleSource, x11::X11Idle};
use idlewatt::node::{
    EmbedWork, Event, EventKind, Job, JobSource, JobSourceError, LocalJobs, Node, NodeConfig, NodeState, Reason,
    RunWhen,
};
use idlewatt::paths::DataDirs;
use tokio::sync::{broadcast, oneshot};
use util::xvfb::Xvfb;

/// A node config with a cap high enough that the power limit never binds.
fn config(dir: &std::path::Path, when: RunWhen, idle_after: Duration) -> NodeConfig {
    let settings = Settings { max_watts: Some(2000.0), ..Settings::default() };
    let mut c = NodeConfig::new(DataDirs::at(dir).expect("data dir"), settings);
    c.when = when;
    c.idle_after = idle_after;
    c.adapter = AdapterPolicy { allow_software: true };
    c.tick = Duration::from_millis(100);
    c
}

/// Waits for the first event matching `pred`, failing after `within`.
async fn expect(
    rx: &mut broadcast::Receiver<Event>,
    within: Duration,
    what: &str,
    pred: impl Fn(&EventKind) -> bool,
) -> EventKind {
    let found = tokio::time::timeout(within, async {
        loop {
            match rx.recv().await {
                Ok(e) if pred(&e.kind) => return e.kind,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("node stopped while waiting for {what}"),
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("no {what} within {within:?}"))
}

fn start(node: Node) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        node.run(async {
            let _ = stopped.await;
        })
        .await
        .expect("node runs");
    });
    (stop, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn always_mode_computes_and_hands_in_jobs() {
    util::init_tracing();
    let dir = tempfile::tempdir().expect("tempdir");
    let no_idle: Result<Box<dyn IdleSource>, IdleError> = Err(IdleError::NoBackend { tried: vec![] });
    let node =
        Node::new(config(dir.path(), RunWhen::Always, Duration::from_secs(300)), no_idle, Box::new(LocalJobs::new(96)));
    let mut rx = node.subscribe();
    let (stop, task) = start(node);
    expect(&mut rx, Duration::from_secs(10), "computing", |k| {
        matches!(k, EventKind::State { state: NodeState::Computing, reason: Reason::AlwaysOn })
    })
    .await;
    for _ in 0..2 {
        expect(&mut rx, Duration::from_secs(20), "a finished job", |k| matches!(k, EventKind::JobDone { .. })).await;
    }
    let _ = stop.send(());
    expect(&mut rx, Duration::from_secs(10), "shutdown", |k| {
        matches!(k, EventKind::State { reason: Reason::ShuttingDown, .. })
    })
    .await;
    task.await.expect("clean exit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_idle_detection_idle_mode_never_computes() {
    util::init_tracing();
    let dir = tempfile::tempdir().expect("tempdir");
    let err = X11Idle::connect(Some(":4097")).map(|x| Box::new(x) as Box<dyn IdleSource>);
    let node =
        Node::new(config(dir.path(), RunWhen::Idle, Duration::from_millis(100)), err, Box::new(LocalJobs::new(64)));
    let mut rx = node.subscribe();
    let (stop, task) = start(node);
    let state = expect(&mut rx, Duration::from_secs(5), "paused", |k| {
        matches!(k, EventKind::State { state: NodeState::Paused, .. })
    })
    .await;
    let EventKind::State { reason: Reason::NoIdleDetection { message }, .. } = state else { panic!("{state:?}") };
    assert!(message.contains("cannot open the X display"), "{message}");
    let computed = tokio::time::timeout(Duration::from_millis(1500), async {
        loop {
            if let Ok(e) = rx.recv().await
                && matches!(
                    e.kind,
                    EventKind::Progress { .. }
                        | EventKind::JobDone { .. }
                        | EventKind::State { state: NodeState::Computing, .. }
                )
            {
                return;
            }
        }
    })
    .await;
    assert!(computed.is_err(), "computed without knowing whether the owner is there");
    // Tuning times kernels on the GPU: never while the node may not compute.
    assert!(!dir.path().join(tuning::TUNING_FILE).exists(), "tuned while not allowed to compute");
    let _ = stop.send(());
    task.await.expect("clean exit");
}

/// Issue 12 (one run mode): the setting says `always`, the command line `--when idle`.
/// The flag wins everywhere: the governor sees the owner too, so nothing starts while
/// the owner works (it used to start and cancel a job every tick).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_when_idle_override_of_an_always_setting_never_computes_while_the_owner_works() {
    util::init_tracing();
    let x = Xvfb::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let idle = X11Idle::connect(Some(&x.display)).map(|s| Box::new(s) as Box<dyn IdleSource>);
    x.touch_mouse();
    let mut c = config(dir.path(), RunWhen::Idle, Duration::from_secs(300));
    c.settings.run_mode = idlewatt::config::RunMode::Always;
    let node = Node::new(c, idle, Box::new(LocalJobs::new(64)));
    let mut rx = node.subscribe();
    let (stop, task) = start(node);
    expect(&mut rx, Duration::from_secs(5), "waiting for the owner", |k| {
        matches!(k, EventKind::State { state: NodeState::Waiting, reason: Reason::OwnerActive { .. } })
    })
    .await;
    let started = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            if let Ok(e) = rx.recv().await
                && matches!(
                    e.kind,
                    EventKind::Progress { .. }
                        | EventKind::Yielded { .. }
                        | EventKind::State { state: NodeState::Computing | NodeState::Yielding, .. }
                )
            {
                return e.kind;
            }
        }
    })
    .await;
    assert!(started.is_err(), "started work while the owner was at the machine: {started:?}");
    let _ = stop.send(());
    task.await.expect("clean exit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_leaves_returns_and_leaves_again_and_work_survives_a_restart() {
    util::init_tracing();
    let x = Xvfb::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let idle_after = Duration::from_millis(400);
    let idle = X11Idle::connect(Some(&x.display)).map(|s| Box::new(s) as Box<dyn IdleSource>);
    x.touch_mouse();
    let node = Node::new(config(dir.path(), RunWhen::Idle, idle_after), idle, Box::new(LocalJobs::new(1024)));
    let mut rx = node.subscribe();
    let (stop, task) = start(node);

    // The owner is here: waiting.
    expect(&mut rx, Duration::from_secs(5), "waiting for the owner", |k| {
        matches!(k, EventKind::State { state: NodeState::Waiting, reason: Reason::OwnerActive { .. } })
    })
    .await;
    // The owner leaves: computing, until a good part of the first job is done.
    expect(&mut rx, Duration::from_secs(5), "computing", |k| {
        matches!(k, EventKind::State { state: NodeState::Computing, reason: Reason::OwnerAway })
    })
    .await;
    expect(
        &mut rx,
        Duration::from_secs(20),
        "progress",
        |k| matches!(k, EventKind::Progress { fraction, .. } if *fraction > 0.3),
    )
    .await;

    // The owner returns: the GPU is given back at once and the work kept.
    x.touch_mouse();
    let yielded = expect(&mut rx, Duration::from_secs(5), "yield", |k| matches!(k, EventKind::Yielded { .. })).await;
    let EventKind::Yielded { latency_ms: Some(latency), kept_fraction } = yielded else { panic!("{yielded:?}") };
    assert!(latency < 100.0, "gave the GPU back {latency} ms after the input");
    assert!(kept_fraction > 0.3, "kept {kept_fraction}");
    expect(&mut rx, Duration::from_secs(5), "waiting again", |k| {
        matches!(k, EventKind::State { state: NodeState::Waiting, .. })
    })
    .await;

    // The owner leaves again: the same job resumes from where it stopped.
    let progress =
        expect(&mut rx, Duration::from_secs(10), "resumed progress", |k| matches!(k, EventKind::Progress { .. })).await;
    let EventKind::Progress { job_id, fraction } = progress else { unreachable!() };
    assert_eq!(job_id, "local-1");
    assert!(fraction >= kept_fraction, "restarted from {fraction} instead of resuming from {kept_fraction}");

    // Stop the node mid-job (the owner quits the app): the job is kept on disk.
    x.touch_mouse();
    let second =
        expect(&mut rx, Duration::from_secs(5), "second yield", |k| matches!(k, EventKind::Yielded { .. })).await;
    let EventKind::Yielded { kept_fraction: saved, .. } = second else { unreachable!() };
    let _ = stop.send(());
    task.await.expect("clean exit");
    assert!(dir.path().join("partial-job.json").exists(), "interrupted job not on disk");

    // A new node on the same data folder continues that job.
    let node = Node::new(
        config(dir.path(), RunWhen::Always, idle_after),
        Err(IdleError::NoBackend { tried: vec![] }),
        Box::new(LocalJobs::new(1024)),
    );
    let mut rx = node.subscribe();
    let (stop, task) = start(node);
    let progress =
        expect(&mut rx, Duration::from_secs(10), "progress after restart", |k| matches!(k, EventKind::Progress { .. }))
            .await;
    let EventKind::Progress { job_id, fraction } = progress else { unreachable!() };
    assert_eq!(job_id, "local-1");
    assert!(fraction >= saved && saved > 0.3, "after restart at {fraction}, saved {saved}");
    let done = expect(&mut rx, Duration::from_secs(20), "job done", |k| matches!(k, EventKind::JobDone { .. })).await;
    assert!(matches!(done, EventKind::JobDone { ref job_id, .. } if job_id == "local-1"), "{done:?}");
    let _ = stop.send(());
    task.await.expect("clean exit");
    // The finished job is gone from disk. The next one may have been interrupted and kept
    // (a new LocalJobs numbers from local-1 again): then it is a different, fresh job.
    if let Ok(saved) = std::fs::read_to_string(dir.path().join("partial-job.json")) {
        let v: serde_json::Value = serde_json::from_str(&saved).expect("saved job is JSON");
        let c = &v["cursor"];
        let fresh = c["row0"] == 0 && c["col0"] == 0 && c["rows"].as_u64().is_some_and(|r| r < 1024);
        assert!(fresh, "the finished job's progress is still on disk: {saved}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_low_power_cap_throttles_samples_every_tick_and_energy_is_recorded() {
    util::init_tracing();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = config(dir.path(), RunWhen::Always, Duration::from_secs(300));
    c.settings.max_watts = Some(10.0);
    let no_idle: Result<Box<dyn IdleSource>, IdleError> = Err(IdleError::NoBackend { tried: vec![] });
    let node = Node::new(c, no_idle, Box::new(LocalJobs::new(256)));
    let control = node.control();
    let mut rx = node.subscribe();
    let (stop, task) = start(node);
    let throttled = expect(&mut rx, Duration::from_secs(20), "throttled", |k| {
        matches!(k, EventKind::State { state: NodeState::Throttled, .. })
    })
    .await;
    assert!(
        matches!(throttled, EventKind::State { reason: Reason::PowerLimit { max_watts }, .. } if max_watts == 10.0),
        "{throttled:?}"
    );
    // Samples say what they are: on this machine nothing is measurable, so estimated.
    // Until the worker has opened the GPU the node knows only "an unknown GPU" (200 W
    // rated, whose 8 % idle floor alone is over the cap): wait for lavapipe's figure.
    let sample = expect(
        &mut rx,
        Duration::from_secs(20),
        "a sample for the opened adapter",
        |k| matches!(k, EventKind::Sample(s) if s.rated_watts < 100.0),
    )
    .await;
    let EventKind::Sample(s) = sample else { unreachable!() };
    assert!(!s.gpu_watts.source.is_measured(), "{s:?}");
    assert!(s.duty < 1.0, "throttled duty {}", s.duty);
    assert!(s.gpu_watts.value < 15.0, "estimated power {} W far over a 10 W cap ({s:?})", s.gpu_watts.value);
    let later = expect(
        &mut rx,
        Duration::from_secs(5),
        "energy today",
        |k| matches!(k, EventKind::Sample(s) if s.today_wh > 0.0),
    )
    .await;
    assert!(matches!(later, EventKind::Sample(ref s) if s.today_measured_wh == 0.0));

    // The owner pauses from the tray: the node stops with that reason, and resumes.
    control.pause(None);
    expect(&mut rx, Duration::from_secs(5), "yield", |k| matches!(k, EventKind::Yielded { .. })).await;
    expect(&mut rx, Duration::from_secs(5), "paused", |k| {
        matches!(k, EventKind::State { state: NodeState::Paused, reason: Reason::UserPaused })
    })
    .await;
    control.resume();
    expect(&mut rx, Duration::from_secs(10), "computing again", |k| {
        matches!(k, EventKind::State { state: NodeState::Throttled | NodeState::Computing, .. })
    })
    .await;
    let _ = stop.send(());
    task.await.expect("clean exit");
    assert!(dir.path().join("energy.sqlite").exists());
}

/// One embeddings batch, then local matmul work; keeps what was submitted for it.
struct OneBatch {
    batch: Option<Job>,
    submitted: std::sync::Arc<std::sync::Mutex<Option<Vec<f32>>>>,
    rest: LocalJobs,
}

impl JobSource for OneBatch {
    fn next_job(&mut self) -> Result<Job, JobSourceError> {
        match self.batch.take() {
            Some(job) => Ok(job),
            None => self.rest.next_job(),
        }
    }

    fn submit(&mut self, job: &Job, c: Vec<f32>) -> Result<(), JobSourceError> {
        if job.embed.is_some() {
            *self.submitted.lock().expect("not poisoned") = Some(c);
            Ok(())
        } else {
            self.rest.submit(job, c)
        }
    }
}

/// The owner returns in the middle of an embeddings batch (all-MiniLM-L6-v2 on
/// lavapipe): the GPU is given back with the batch's progress kept in host memory, and
/// when the node computes again the batch continues from there, not from its start,
/// and its vectors equal the CPU reference's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_embeddings_batch_resumes_where_it_stopped() {
    util::init_tracing();
    let dir = tempfile::tempdir().expect("tempdir");
    let model_dir = idlewatt_models::testing::minilm_dir().expect("scripts/setup unpacks the model");
    let sequences: Vec<Vec<u32>> = (0..8u32)
        .map(|s| {
            let body = (0..62u32).map(|i| 1000 + (i * 37 + s * 101) % 20000);
            std::iter::once(101).chain(body).chain(std::iter::once(102)).collect()
        })
        .collect();
    let job = Job {
        id: "batch-1".into(),
        dims: idlewatt::compute::MatmulDims { m: 8, n: 384, k: 64 },
        seed: 0,
        client: None,
        embed: Some(EmbedWork { model_dir: model_dir.clone(), sequences: sequences.clone(), flops: 0 }),
    };
    let submitted = std::sync::Arc::new(std::sync::Mutex::new(None));
    let source = OneBatch { batch: Some(job), submitted: submitted.clone(), rest: LocalJobs::new(64) };
    let no_idle: Result<Box<dyn IdleSource>, IdleError> = Err(IdleError::NoBackend { tried: vec![] });
    let node = Node::new(config(dir.path(), RunWhen::Always, Duration::from_secs(300)), no_idle, Box::new(source));
    let control = node.control();
    let mut rx = node.subscribe();
    let (stop, task) = start(node);

    expect(
        &mut rx,
        Duration::from_secs(300),
        "the batch under way",
        |k| matches!(k, EventKind::Progress { job_id, fraction } if job_id == "batch-1" && *fraction > 0.15),
    )
    .await;
    control.pause(None);
    let yielded = expect(&mut rx, Duration::from_secs(5), "yield", |k| matches!(k, EventKind::Yielded { .. })).await;
    let EventKind::Yielded { kept_fraction, .. } = yielded else { unreachable!() };
    assert!(kept_fraction > 0.15 && kept_fraction < 1.0, "kept {kept_fraction} of the batch");
    assert!(submitted.lock().expect("not poisoned").is_none(), "the batch finished before the owner returned");

    control.resume();
    let progress = expect(
        &mut rx,
        Duration::from_secs(120),
        "the batch again",
        |k| matches!(k, EventKind::Progress { job_id, .. } if job_id == "batch-1"),
    )
    .await;
    let EventKind::Progress { fraction, .. } = progress else { unreachable!() };
    assert!(fraction >= kept_fraction, "restarted from {fraction} instead of resuming from {kept_fraction}");
    expect(
        &mut rx,
        Duration::from_secs(300),
        "the batch done",
        |k| matches!(k, EventKind::JobDone { job_id, .. } if job_id == "batch-1"),
    )
    .await;
    let _ = stop.send(());
    task.await.expect("clean exit");

    let got = submitted.lock().expect("not poisoned").take().expect("the batch was handed in");
    let cpu = idlewatt_models::CpuModel::load_dir(&model_dir).expect("model");
    let want = idlewatt_models::cpu::encode(&cpu, &sequences).expect("CPU reference");
    assert_eq!(got.len(), 8 * 384);
    for (row, w) in got.chunks(384).zip(&want) {
        let dot: f64 = row.iter().zip(w).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum();
        assert!(dot >= 0.9999, "a resumed row's cosine to the CPU reference: {dot}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_session_tunes_the_kernels_and_the_next_reuses_the_cache() {
    util::init_tracing();
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join(tuning::TUNING_FILE);
    assert!(!cache.exists());
    let mut first: Option<(Vec<u8>, std::time::SystemTime)> = None;
    for session in 0..2 {
        let no_idle: Result<Box<dyn IdleSource>, IdleError> = Err(IdleError::NoBackend { tried: vec![] });
        let node = Node::new(
            config(dir.path(), RunWhen::Always, Duration::from_secs(300)),
            no_idle,
            Box::new(LocalJobs::new(64)),
        );
        let mut rx = node.subscribe();
        let (stop, task) = start(node);
        // Tuning comes before the first job of the first session.
        expect(&mut rx, Duration::from_secs(180), "a finished job", |k| matches!(k, EventKind::JobDone { .. })).await;
        let _ = stop.send(());
        task.await.expect("clean exit");
        let bytes = std::fs::read(&cache).unwrap_or_else(|e| panic!("session {session}: no tuning cache: {e}"));
        let modified = std::fs::metadata(&cache).and_then(|m| m.modified()).expect("mtime");
        match &first {
            None => {
                let t = tuning::Tuning::load(&cache).expect("a readable tuning");
                assert_eq!(t.key.wgpu, tuning::WGPU_VERSION);
                assert!(t.key.driver_info.contains("Mesa"), "{:?}", t.key);
                assert_eq!(t.precisions().first(), Some(&idlewatt_protocol::Precision::F32), "{:?}", t.precisions());
                assert!(t.results.iter().all(|r| r.gflops > 0.0 && !r.candidates.is_empty()));
                // What the node registers with from now on.
                assert_eq!(tuning::benchmarked_precisions(&cache), t.precisions());
                first = Some((bytes, modified));
            }
            Some((b, m)) => {
                assert_eq!(&bytes, b, "the second session retuned");
                assert_eq!(&modified, m, "the second session rewrote the cache");
            }
        }
    }
}
