# Parlor's two sacred commands:  `make run`  (set up and start the whole platform)
#                                 `make test` (set up and run every test)
# Everything else here is a step of those two.
SHELL := /bin/bash
JOBS  ?= $(shell nproc)
CMAKE_GEN := -G Ninja

RELEASE_DIR := build/release
TEST_DIR    := build/test
FUZZ_DIR    := build/fuzz
FUZZ_SECONDS ?= 10

export PARLOR_BIN ?= $(CURDIR)/$(TEST_DIR)/parlor

.PHONY: run test deps npm-deps web build build-test build-fuzz unit fuzz integration e2e bench format lint clean

# `web` before the C++ build: the parlor binary embeds web/dist, so it must be current first.
run: deps web build
	$(RELEASE_DIR)/parlor dev

test: deps web build-test
	$(MAKE) unit
	$(MAKE) fuzz
	$(MAKE) integration
	$(MAKE) e2e

deps:
	bash scripts/deps.sh
	$(MAKE) npm-deps

# npm ci only when the lock file changed since the last install.
npm-deps:
	@if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	  npm ci --no-audit --no-fund; fi
	@if [ -f web/package-lock.json ] && { [ ! -f web/node_modules/.package-lock.json ] || \
	  [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; }; then \
	  (cd web && npm ci --no-audit --no-fund); fi

web:
	@if [ -f web/package.json ]; then (cd web && npm run build); fi

build:
	cmake -S . -B $(RELEASE_DIR) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(RELEASE_DIR) -j $(JOBS)

# The test build: everything under AddressSanitizer + UndefinedBehaviorSanitizer, so unit,
# integration and end-to-end tests all run against an instrumented server.
build-test:
	cmake -S . -B $(TEST_DIR) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPARLOR_SANITIZE=ON -DPARLOR_BENCH=OFF
	cmake --build $(TEST_DIR) -j $(JOBS)

build-fuzz:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPARLOR_FUZZ=ON
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target $$(ls tests/fuzz/*_fuzz.cpp | sed 's|.*/\(.*\)_fuzz.cpp|fuzz_\1|')

unit:
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(TEST_DIR) --output-on-failure -j $(JOBS) -L unit
	@if [ -f web/package.json ]; then (cd web && npm test); fi

# Builds only the fuzz targets (with clang) and runs each briefly; nothing to do without any.
fuzz:
	@if ls tests/fuzz/*_fuzz.cpp >/dev/null 2>&1; then $(MAKE) build-fuzz && \
	  bash scripts/fuzz.sh $(FUZZ_DIR) $(FUZZ_SECONDS); else echo "fuzz: no targets"; fi

integration:
	bash scripts/with-services.sh npm run test:integration

e2e:
	bash scripts/with-services.sh npm run test:e2e

bench: build
	@for b in $(RELEASE_DIR)/bench_*; do [ -x "$$b" ] && "$$b" --benchmark_min_time=0.2 || true; done

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

lint:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror

clean:
	rm -rf build
