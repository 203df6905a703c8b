# TiersPay: the two commands a newcomer runs are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo
BINDINGS_DIR := target/bindings
LIB := target/debug/libtierspay_core.$(if $(filter Darwin,$(shell uname -s)),dylib,so)

.PHONY: help demo test test-rust test-stripe test-browser test-kotlin test-swift bindings bench size lint lint-swift lint-kotlin android ios clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

demo: ## Build, start tierspay-mock with the demo seed, and run the member journey in the terminal shell
	@scripts/demo.sh

test: test-rust test-stripe test-browser test-kotlin test-swift test-fuzz ## Every test in the repo: Rust, Stripe client, the hosted page in Chromium, Kotlin (JVM), Swift (Linux), 5 s of each fuzz target

test-rust: ## Rust unit, integration and end-to-end tests
	$(CARGO) test --workspace --locked

test-stripe: ## The official stripe-python library driving tierspay-mock's PSP, unchanged
	$(CARGO) build -p tierspay-server-mock --locked
	tests/stripe/run.sh

test-browser: ## The hosted payment page in real headless Chromium (Debian's package, playwright-core; screenshots in target/browser-artifacts)
	tests/browser/run.sh

# The core's features for `make bindings`: `testing` (PassKitSimulator, software secure storage
# and device key) for the Kotlin and Swift test builds; `make android` and `make ios` pass
# CORE_FEATURES= so the bindings an app compiles match the library it ships.
CORE_FEATURES ?= testing
# The library the bindings are generated from and the Kotlin and Swift tests load: a copy of
# this build, checked (simulators in it exactly when `testing` is asked for) right after cargo
# links it, because any other cargo run on the same target/ (`cargo test -p tierspay-core`,
# which has no `testing`) relinks target/debug's.
CORE_LIB_DIR := target/core-lib
CORE_LIB := $(CORE_LIB_DIR)/$(notdir $(LIB))

bindings: ## Build the core unstripped (with CORE_FEATURES, default testing) and generate Kotlin and Swift bindings (never committed)
	$(CARGO) build -p tierspay-uniffi-bindgen --locked
	@set -e; mkdir -p $(CORE_LIB_DIR); for try in 1 2 3; do \
	  $(CARGO) rustc -p tierspay-core --lib --crate-type cdylib --locked $(if $(CORE_FEATURES),--features $(CORE_FEATURES)); \
	  tmp=$$(mktemp $(CORE_LIB_DIR)/.lib.XXXXXX); cp $(LIB) $$tmp; chmod 755 $$tmp; \
	  if nm -g $$tmp | grep -qi passkitsimulator; then has=testing; else has=; fi; \
	  if [ "$$has" = "$(filter testing,$(CORE_FEATURES))" ]; then mv $$tmp $(CORE_LIB); break; fi; \
	  rm -f $$tmp; echo "bindings: another build relinked $(LIB) with other features; building again"; \
	  if [ $$try = 3 ]; then exit 1; fi; \
	done
	@# Generate in a folder of this run's own, then swap in: a concurrent build never sees a
	@# half-written folder, and two runs never share one.
	@set -e; new=$$(mktemp -d target/bindings.new.XXXXXX); \
	  target/debug/uniffi-bindgen generate $(CORE_LIB) -l kotlin -o $$new/kotlin --no-format; \
	  target/debug/uniffi-bindgen generate $(CORE_LIB) -l swift -o $$new/swift --no-format; \
	  old=$$(mktemp -d target/bindings.old.XXXXXX); rmdir $$old; \
	  if [ -d $(BINDINGS_DIR) ]; then mv $(BINDINGS_DIR) $$old; fi; \
	  mv $$new $(BINDINGS_DIR); rm -rf $$old
	@# Copy only what changed, so Swift does not recompile the bindings on every run.
	mkdir -p ios/Sources/TiersPayFFI ios/Sources/TiersPayCore
	cmp -s $(BINDINGS_DIR)/swift/TiersPayFFI.h ios/Sources/TiersPayFFI/TiersPayFFI.h || cp $(BINDINGS_DIR)/swift/TiersPayFFI.h ios/Sources/TiersPayFFI/
	cmp -s $(BINDINGS_DIR)/swift/TiersPayFFI.modulemap ios/Sources/TiersPayFFI/module.modulemap || cp $(BINDINGS_DIR)/swift/TiersPayFFI.modulemap ios/Sources/TiersPayFFI/module.modulemap
	cmp -s $(BINDINGS_DIR)/swift/TiersPayCore.swift ios/Sources/TiersPayCore/TiersPayCore.swift || cp $(BINDINGS_DIR)/swift/TiersPayCore.swift ios/Sources/TiersPayCore/

test-kotlin: bindings ## Kotlin adapter tests on the JVM against the real core and a real tierspay-mock
	$(CARGO) build -p tierspay-server-mock --locked
	cd android/jvm && mvn -B -ntp test -Dcore.library.dir=$(CURDIR)/$(CORE_LIB_DIR)

test-swift: bindings ## Swift adapter tests (XCTest) on Linux against the real core and a real tierspay-mock
	$(CARGO) build -p tierspay-server-mock --locked
	TIERSPAY_CORE_BUILD_DIR=$(CURDIR)/$(CORE_LIB_DIR) scripts/swift-env.sh test

# make bench: every figure in one run, then BENCHMARKS.md. The peer comparison's knobs come from
# the environment (BENCH_DURATION, BENCH_RUNS, BENCH_SCENARIOS, ...; scripts/bench-psp.sh); its
# defaults here keep the measuring short on 2 cores (the peer part is 7 minutes; cold bench-profile
# builds come on top): card-create (vs stripe-mock) and payment-intent (vs localstripe), 10 s
# runs, 3 repetitions, no long growth run.
bench: ## Every benchmark in one run: criterion, journeys, callgrind counts, the mock beside stripe-mock and localstripe, release size; writes BENCHMARKS.md
	@python3 scripts/bench-report.py --start
	$(CARGO) bench -p tierspay-core --bench core --locked
	set -o pipefail; $(CARGO) bench -p tierspay-tests --bench journeys --locked | tee target/bench/journeys.txt
	@set -o pipefail; scripts/size.sh | tee target/bench/size.txt
	@set -o pipefail; $(MAKE) --no-print-directory bench-decision bench-auth-rules | tee target/bench/hot-paths.txt
	BENCH_SCENARIOS="$${BENCH_SCENARIOS:-card-create payment-intent}" BENCH_GROWTH_DURATION="$${BENCH_GROWTH_DURATION:-0}" scripts/bench-psp.sh
	@python3 scripts/bench-report.py

size: ## Release cdylib size for this host (default features), stripped; fails over 4.5 MB or with a test double inside
	@scripts/size.sh

lint: lint-swift lint-kotlin ## rustfmt and clippy, as CI would want them; swift-format (lint-swift), ktlint (lint-kotlin)
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

# ktlint-cli from Maven Central, fetched once into ~/.m2 by Maven; rules in android/.editorconfig.
KTLINT_VERSION := 1.5.0
KTLINT_JAR := $(HOME)/.m2/repository/com/pinterest/ktlint/ktlint-cli/$(KTLINT_VERSION)/ktlint-cli-$(KTLINT_VERSION)-all.jar
KTLINT_FILES := "android/**/*.kt" "!android/**/target/**" "!android/**/build/**"

$(KTLINT_JAR):
	mvn -B -q dependency:get -Dartifact=com.pinterest.ktlint:ktlint-cli:$(KTLINT_VERSION):jar:all

lint-kotlin: $(KTLINT_JAR) ## ktlint on android/ (android/.editorconfig; `make lint-kotlin KTLINT_ARGS=-F` reformats)
	java -jar $(KTLINT_JAR) $(KTLINT_ARGS) $(KTLINT_FILES)

lint-swift: ## swift-format lint --strict on ios/ (ios/.swift-format; not the generated bindings)
	@scripts/swift-env.sh lint

android: ## Cross-compile the core for Android ABIs (needs the NDK and cargo-ndk) and package bindings
	@scripts/build-android.sh

ios: ## Build the core as an XCFramework for iOS (needs Xcode on macOS) and package bindings
	@scripts/build-ios.sh

clean: ## Remove build outputs
	$(CARGO) clean
	rm -rf ios/.build android/jvm/target

.PHONY: bench-decision
bench-decision: ## One tap decision (platform::visit_decision): criterion, then its instruction count under callgrind
	$(CARGO) bench -p tierspay-tests --bench decision --locked
	@bin=$$($(CARGO) bench -p tierspay-tests --bench decision --locked --no-run --message-format=json 2>/dev/null \
	    | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1); \
	for n in 1000 11000; do \
	    valgrind --tool=callgrind --callgrind-out-file=target/callgrind.decision.$$n "$$bin" --instructions $$n 2>&1 \
	        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p' > target/callgrind.decision.$$n.total; \
	done; \
	echo "instructions per decision: $$(( ($$(cat target/callgrind.decision.11000.total) - $$(cat target/callgrind.decision.1000.total)) / 10000 ))"

.PHONY: bench-auth bench-auth-rules
bench-auth: ## Issuing authorizations at 1,000/s open loop for 60 s through the decision webhook: p50/p99/p99.9/max (docs/benchmarks.md)
	@scripts/bench-auth.sh

bench-auth-rules: ## One authorization's checks (psp::authorization_rules): time per check, then its instruction count under callgrind
	$(CARGO) bench -p tierspay-server-mock --bench authorization_rules --locked
	@bin=$$($(CARGO) bench -p tierspay-server-mock --bench authorization_rules --locked --no-run --message-format=json 2>/dev/null \
	    | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1); \
	for n in 1000 11000; do \
	    valgrind --tool=callgrind --callgrind-out-file=target/callgrind.auth_rules.$$n "$$bin" --instructions $$n 2>&1 \
	        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p' > target/callgrind.auth_rules.$$n.total; \
	done; \
	echo "instructions per authorization check: $$(( ($$(cat target/callgrind.auth_rules.11000.total) - $$(cat target/callgrind.auth_rules.1000.total)) / 10000 ))"

.PHONY: bench-psp
bench-psp: ## tierspay-mock's PSP beside stripe-mock (card create/retrieve) and localstripe (PaymentIntent create, confirm, capture) on loopback, 1 and 16 connections (docs/benchmarks.md)
	@scripts/bench-psp.sh

.PHONY: bench-hosted-page
bench-hosted-page: ## The hosted payment page on loopback: server time p50/p99 and bytes sent, with wrk (docs/benchmarks.md)
	@scripts/bench-hosted-page.sh

.PHONY: bench-webhooks
bench-webhooks: ## Webhook delivery on loopback: events signed, delivered and verified per second, median and spread (docs/benchmarks.md)
	$(CARGO) bench -p tierspay-tests --bench webhooks --locked

.PHONY: bench-dunning
bench-dunning: ## One reminder pass over 100,000 open invoices (email + SMS each): time and messages/s (docs/benchmarks.md); DUNNING_INVOICES=N for another count
	$(CARGO) bench -p tierspay-tests --bench dunning --locked

.PHONY: bench-console
bench-console: ## The support console's invoice view with a 200-event timeline: round-trip time p50/p99 over 300 requests on loopback (docs/benchmarks.md)
	$(CARGO) test --workspace --locked --test console -- --ignored --nocapture bench_console

.PHONY: bench-arrears-channels
bench-arrears-channels: ## Paying arrears: from the payment's commit to the app's event stream, a link's page and a webhook showing paid; median, p90, p99, max per channel over 200 rounds per payer, debug build (docs/benchmarks.md); CHANNELS_ROUNDS=N
	$(CARGO) test --workspace --locked --test arrears_channels -- --ignored --nocapture bench_commit_to_every_channel

.PHONY: fuzz test-fuzz
FUZZ_SECONDS ?= 300
fuzz: ## Every cargo-fuzz target (fuzz/, nightly; installs nightly and cargo-fuzz if missing) for FUZZ_SECONDS each, default 300 (docs/fuzzing.md)
	@scripts/fuzz.sh $(FUZZ_SECONDS)

test-fuzz: ## Every fuzz target for 5 s on the committed corpus (part of `make test`; installs nightly and cargo-fuzz if missing, docs/fuzzing.md)
	@scripts/fuzz.sh 5

.PHONY: chaos
chaos: ## The fault run for paying arrears: 10,000 payment attempts under seeded faults, zero duplicate charges (docs/arrears.md); CHAOS_ATTEMPTS=N, CHAOS_SEED=S to replay
	CHAOS_ATTEMPTS=$${CHAOS_ATTEMPTS:-10000} $(CARGO) test --workspace --locked --test arrears_fault_run -- --nocapture
