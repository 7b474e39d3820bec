//! Any repository gives diagnostics or valid output, never a panic: see
//! `fuzz/src/lib.rs` for the input format and the invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    manifold_fuzz::run(data);
});
