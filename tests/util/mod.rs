//! Shared helpers of the integration tests: one tracing set-up, one way to open the
//! real GPU (lavapipe on CI, pinned to Vulkan so a silent GL fallback cannot pass), and
//! a private real keyring ([`keyring::KeyringSession`]).
#![allow(dead_code, clippy::unwrap_used)]

pub mod bus;
pub mod coordinator;
pub mod keyring;
pub mod python;

use std::sync::Once;

use idlewatt::compute::{AdapterPolicy, Engine, adapter};

/// Installs a test-friendly subscriber once per test binary.
pub fn init_tracing() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_env("IDLEWATT_LOG")
                    .unwrap_or_else(|_| "warn,wgpu_hal::gles=off".into()),
            )
            .with_test_writer()
            .try_init();
    });
}

/// The machine's Vulkan adapter, software allowed (lavapipe here).
pub fn engine() -> Engine {
    init_tracing();
    let instance = adapter::instance();
    let chosen = adapter::select_from(&instance, wgpu::Backends::VULKAN, AdapterPolicy { allow_software: true })
        .expect("a Vulkan adapter (on Debian: apt install mesa-vulkan-drivers)");
    assert_eq!(chosen.get_info().backend, wgpu::Backend::Vulkan);
    Engine::from_adapter(chosen).expect("open the Vulkan device")
}

pub mod xvfb;
