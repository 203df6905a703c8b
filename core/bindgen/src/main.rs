//! `uniffi-bindgen` of the same uniffi version as the core: `make bindings` generates the Kotlin
//! and Swift bindings with it.

fn main() {
    uniffi::uniffi_bindgen_main()
}
