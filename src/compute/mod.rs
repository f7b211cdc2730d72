//! The compute engine: runs verified WGSL kernels on whatever GPU the machine has,
//! through wgpu, in slices short enough to hand the GPU back to its owner at once.
//!
//! - [`adapter`] picks the GPU (hardware first; software only when allowed).
//! - [`Engine`] owns one device and the compiled [`kernels`]; [`caps`] says which
//!   kernel paths (f32, f16, f16 on cooperative matrices) the adapter has.
//! - [`matmul`] runs a job: checks, slices ([`slicing`]), cancel, suspend/resume.
//! - [`tuning`] times the candidate kernels on the adapter and caches the winners.
//! - [`profile`] describes the hardware; [`reference`] holds the CPU references.

pub mod adapter;
mod cancel;
pub mod caps;
mod engine;
mod error;
pub mod kernels;
pub mod matmul;
pub mod profile;
pub mod reference;
pub mod slicing;
pub mod tuning;

pub use adapter::AdapterPolicy;
pub use cancel::CancelToken;
pub use caps::KernelCaps;
pub use engine::Engine;
pub use error::ComputeError;
pub use kernels::{KernelChoice, KernelPath, TileShape};
pub use matmul::{MatmulDims, MatmulRun, RunState, SliceReport, SuspendedMatmul};
pub use profile::{GpuLimits, GpuProfile, HardwareProfile, HostProfile};
