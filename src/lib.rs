//! Idlewatt's core: everything the desktop app and the headless node do, with no GUI
//! dependency, so all of it is testable headless.
//!
//! # Layout
//! - [`compute`]: the wgpu engine, the kernel registry (`shaders/*.wgsl`), slicing.
//! - [`bench`]: the GPU-vs-CPU matmul benchmark behind `idlewatt-node bench`.
//! - [`paths`]: the per-user data folder (`IDLEWATT_DATA_DIR` overrides it).
//! - [`wallet`]: the owner's key in the OS keyring; create/import/backup; EIP-191/712 signing.
//! - `src/bin/idlewatt-node.rs`: the headless node's command line.
//!
//! Later modules (DESIGN §1): `idle`, `sensors`, `governor`, `energy`,
//! `network`, `node`, `store`, `config`.

pub mod bench;
pub mod compute;
pub mod paths;
pub mod wallet;
