#!/usr/bin/env bash
# Cross-compiles the core for the Android ABIs and packages it with the Kotlin bindings for the
# app. Needs the Android NDK (ANDROID_NDK_HOME) and cargo-ndk; cannot run on a machine without
# them, and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${ANDROID_NDK_HOME:-}" ] || [ ! -d "$ANDROID_NDK_HOME" ]; then
  echo "build-android: set ANDROID_NDK_HOME to an installed NDK (r27 or newer)" >&2
  exit 1
fi
command -v cargo-ndk >/dev/null 2>&1 || cargo install --locked cargo-ndk
rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android

# Android 15+ devices may use 16 KB memory pages: align every LOAD segment to 16 KB.
export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-z,max-page-size=16384"
# The cdylib alone, with the default features (no simulator, no software key): what
# `make size` measures. Built beside the rlib it would keep the core's public Rust items.
abis=(arm64-v8a:aarch64-linux-android armeabi-v7a:armv7-linux-androideabi x86_64:x86_64-linux-android)
for pair in "${abis[@]}"; do
  abi=${pair%%:*}; triple=${pair#*:}
  cargo ndk --platform 24 -t "$abi" rustc --release --locked -p tierspay-core --lib --crate-type cdylib
  mkdir -p "android/app/src/main/jniLibs/$abi"
  cp "target/$triple/release/libtierspay_core.so" "android/app/src/main/jniLibs/$abi/"
done

# Bindings come from the host's unstripped build (same uniffi, same metadata), with the same
# default features as the library: an app's bindings name no test double.
make bindings CORE_FEATURES=
rm -rf android/app/build/generated/uniffi
mkdir -p android/app/build/generated/uniffi
cp -R target/bindings/kotlin/. android/app/build/generated/uniffi/
echo "build-android: jniLibs in android/app/src/main/jniLibs, bindings in android/app/build/generated/uniffi"
