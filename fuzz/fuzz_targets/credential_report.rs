#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| portcullis::fuzz::credential_report(data));
