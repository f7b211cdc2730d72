//! The arithmetic precision a job is computed in. One type for the whole network: the
//! job spec carries it, the node picks a kernel path for it, the verifier applies the
//! honest error bound of that precision, and the coordinator leases a job only to
//! nodes that benchmarked a path for it.

use serde::{Deserialize, Serialize};

/// Storage precision of a job's inputs and products. Accumulation is always f32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// IEEE binary32 inputs, products and sums (unit round-off 2⁻²⁴).
    #[default]
    F32,
    /// IEEE binary16 inputs (unit round-off 2⁻¹¹), products accumulated in f32.
    F16,
}

impl Precision {
    /// Every precision, in the order a node reports them.
    pub const ALL: [Self; 2] = [Self::F32, Self::F16];

    /// Unit round-off of the input storage format.
    pub fn unit_roundoff(self) -> f64 {
        match self {
            Self::F32 => 1.0 / (1u64 << 24) as f64,
            Self::F16 => 1.0 / (1u64 << 11) as f64,
        }
    }

    /// The name on the wire and in the CLI (`"f32"`, `"f16"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::F16 => "f16",
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "f32" => Ok(Self::F32),
            "f16" => Ok(Self::F16),
            other => Err(format!("unknown precision {other:?} (expected f32 or f16)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_default_is_f32() {
        for p in Precision::ALL {
            assert_eq!(p.as_str().parse::<Precision>(), Ok(p));
            assert_eq!(serde_json::to_string(&p).ok(), Some(format!("\"{p}\"")));
        }
        assert_eq!(Precision::default(), Precision::F32);
        assert!("bf16".parse::<Precision>().is_err());
    }
}
