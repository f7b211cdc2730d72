//! The compute engine: runs verified WGSL kernels on whatever GPU the machine has,
//! through wgpu, in slices short enough to hand the GPU back to its owner at once.
//!
//! - [`adapter`] picks the GPU (hardware first; software only when allowed).
//! - [`Engine`] owns one device and the compiled [`kernels`].
//! - [`matmul`] runs a job: checks, slices ([`slicing`]), cancel, suspend/resume.
//! - [`profile`] describes the hardware; [`reference`] holds the CPU references.

pub mod adapter;
mod cancel;
mod engine;
mod error;
pub mod kernels;
pub mod matmul;
pub mod profile;
pub mod reference;
pub mod slicing;

pub use adapter::AdapterPolicy;
pub use cancel::CancelToken;
pub use engine::Engine;
pub use error::ComputeError;
pub use matmul::{MatmulDims, MatmulRun, RunState, SliceReport, SuspendedMatmul};
pub use profile::{GpuLimits, GpuProfile, HardwareProfile, HostProfile};
