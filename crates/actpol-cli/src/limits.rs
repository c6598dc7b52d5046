//! The envelope limits `eval`, `explain` and `test` take as flags, each
//! defaulting to the library's (`EnvelopeLimits::DEFAULT`).

use actpol::EnvelopeLimits;

#[derive(clap::Args, Clone, Copy, Debug)]
pub struct LimitArgs {
    /// The most bytes of JSON one envelope may take.
    #[arg(long, value_name = "BYTES", default_value_t = EnvelopeLimits::DEFAULT.max_bytes)]
    max_envelope_bytes: usize,
    /// The most bytes one string of an envelope (a key or a value) may hold.
    #[arg(long, value_name = "BYTES", default_value_t = EnvelopeLimits::DEFAULT.max_string)]
    max_string_bytes: usize,
    /// The most elements of one array of an envelope (a list a policy reads
    /// holds 1024 at most whatever this says).
    #[arg(long, value_name = "N", default_value_t = EnvelopeLimits::DEFAULT.max_array)]
    max_array_len: usize,
    /// How deeply an envelope's objects and arrays may nest.
    #[arg(long, value_name = "N", default_value_t = EnvelopeLimits::DEFAULT.max_depth)]
    max_depth: usize,
    /// The most keys of one object of an envelope.
    #[arg(long, value_name = "N", default_value_t = EnvelopeLimits::DEFAULT.max_keys)]
    max_keys: usize,
}

impl LimitArgs {
    pub fn limits(&self) -> EnvelopeLimits {
        EnvelopeLimits {
            max_bytes: self.max_envelope_bytes,
            max_string: self.max_string_bytes,
            max_array: self.max_array_len,
            max_depth: self.max_depth,
            max_keys: self.max_keys,
        }
    }
}
