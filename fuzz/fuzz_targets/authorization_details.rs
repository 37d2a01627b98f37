#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| portcullis::fuzz::authorization_details(data));
