//! A real coordinator for tests: `idlewatt-coordinator` serving on 127.0.0.1:0 from its
//! own runtime (so blocking test code can talk to it), stopped cleanly on drop.

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

    /// Shuts it down (the database stays for a restart).
    pub fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.runtime.block_on(h.shutdown()).unwrap();
        }
    }
}

impl Drop for Coordinator {
    fn drop(&mut self) {
        self.stop();
    }
}
