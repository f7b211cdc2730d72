//! The node loop with real parts: lavapipe for the GPU, Xvfb + xdotool for the owner.
//! The owner leaves → the node computes; the owner returns → the GPU is given back within
//! milliseconds and the job kept; the owner leaves again → the job resumes where it
//! stopped; a restart resumes it from disk; without idle detection the node never guesses.

mod util;

use std::time::Duration;

use idlewatt::compute::AdapterPolicy;
use idlewatt::idle::{IdleError, IdleSource, x11::X11Idle};
use idlewatt::node::{Event, EventKind, LocalJobs, Node, NodeConfig, NodeState, Reason, RunWhen};
use idlewatt::paths::DataDirs;
use tokio::sync::{broadcast, oneshot};
use util::xvfb::Xvfb;

fn config(dir: &std::path::Path, when: RunWhen, idle_after: Duration) -> NodeConfig {
    let mut c = NodeConfig::new(DataDirs::at(dir).expect("data dir"));
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
    assert!(!dir.path().join("partial-job.json").exists(), "finished job still on disk");
}
