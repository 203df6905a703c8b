#!/usr/bin/env bash
# Builds the core as an XCFramework (device + simulator) and puts the Swift bindings beside the
# app. Needs macOS with Xcode; on any other machine it stops and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(uname -s)" != Darwin ] || ! command -v xcodebuild >/dev/null 2>&1; then
  echo "build-ios: needs macOS with Xcode (xcodebuild)" >&2
  exit 1
fi
rustup target add aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios
export IPHONEOS_DEPLOYMENT_TARGET=15.0
# The static library alone, with the default features: no simulator, no software key.
for t in aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios; do
  cargo rustc --release --locked -p tierspay-core --lib --crate-type staticlib --target "$t"
done
mkdir -p target/ios-sim
lipo -create target/aarch64-apple-ios-sim/release/libtierspay_core.a \
  target/x86_64-apple-ios/release/libtierspay_core.a -output target/ios-sim/libtierspay_core.a

# Bindings with the library's default features: the app's bindings name no test double (the
# Swift test builds run `make bindings`, which turns `testing` on, and regenerate them).
make bindings CORE_FEATURES=
headers=target/ios-headers
rm -rf "$headers" ios/build/TiersPayCore.xcframework
mkdir -p "$headers" ios/build
cp target/bindings/swift/TiersPayFFI.h "$headers/"
cp target/bindings/swift/TiersPayFFI.modulemap "$headers/module.modulemap"
xcodebuild -create-xcframework \
  -library target/aarch64-apple-ios/release/libtierspay_core.a -headers "$headers" \
  -library target/ios-sim/libtierspay_core.a -headers "$headers" \
  -output ios/build/TiersPayCore.xcframework
echo "build-ios: ios/build/TiersPayCore.xcframework; Swift bindings in ios/Sources/TiersPayCore"
