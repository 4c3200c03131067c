//! Fuzz target: `nextke_integrations::fuzzing::lever_webhook` must not panic on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    nextke_integrations::fuzzing::lever_webhook(data);
});
