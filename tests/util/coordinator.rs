//! A real coordinator for tests: `idlewatt-coordinator` serving on 127.0.0.1:0 from its
//! own runtime (so blocking test code can talk to it), stopped cleanly on drop, after
//! checking the money invariant of its books ([`assert_books`]): every scenario that
//! starts a coordinator ends with that check.

use std::io::Write as _;

use idlewatt_protocol::wire::{Books, NetworkStatus};

/// The money invariant of the coordinator at `url` (`GET /v1/network`'s books):
/// deposits − withdrawals = client balances + escrow + node balances + fees, no account
/// negative. Prints one line past the test harness's capture, so a run of the suite
/// shows every check.
pub async fn assert_books(url: &str) -> Books {
    // A scenario that flooded the coordinator may be rate-limited for a moment.
    let mut r = reqwest::get(format!("{url}/v1/network")).await.unwrap();
    for _ in 0..40 {
        if r.status() != reqwest::StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        r = reqwest::get(format!("{url}/v1/network")).await.unwrap();
    }
    let net: NetworkStatus = r.json().await.unwrap();
    let b = net.books.expect("the coordinator reports its books");
    assert!(b.balanced, "books do not balance: {b:?}");
    assert_eq!(
        b.deposits.0 - b.withdrawals.0,
        b.client_balances.0 + b.escrow.0 + b.node_balances.0 + b.fees.0,
        "{b:?}"
    );
    let _ = writeln!(
        std::io::stderr().lock(),
        "money invariant holds: deposits {} - withdrawals {} = client balances {} + escrow {} + node balances {} + fees {}",
        b.deposits.to_token_string(),
        b.withdrawals.to_token_string(),
        b.client_balances.to_token_string(),
        b.escrow.to_token_string(),
        b.node_balances.to_token_string(),
        b.fees.to_token_string()
    );
    b
}

/// A coordinator on its own runtime; its database is whatever `config` says.
pub struct Coordinator {
    runtime: tokio::runtime::Runtime,
    handle: Option<idlewatt_coordinator::Handle>,
}

impl Coordinator {
    /// Starts serving `config` (its default address is 127.0.0.1 on a free port).
    pub fn start(config: idlewatt_coordinator::Config) -> Self {
        super::init_tracing();
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let handle = runtime.block_on(idlewatt_coordinator::start(config)).unwrap();
        Self { runtime, handle: Some(handle) }
    }

    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        self.handle.as_ref().unwrap().url()
    }

    /// The money invariant now ([`assert_books`]).
    pub fn books(&self) -> Books {
        self.runtime.block_on(assert_books(&self.url()))
    }

    /// Checks the books, then shuts it down (the database stays for a restart). A test
    /// that already failed is not made to panic twice.
    pub fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            if !std::thread::panicking() {
                self.runtime.block_on(assert_books(&h.url()));
            }
            self.runtime.block_on(h.shutdown()).unwrap();
        }
    }
}

impl Drop for Coordinator {
    fn drop(&mut self) {
        self.stop();
    }
}
