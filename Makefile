# Thin wrapper around CMake.  `make` builds build/spamtrace, `make check`
# runs every test, `make install` installs (PREFIX=/usr/local by default).
BUILD   ?= build
PREFIX  ?= /usr/local
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

all: $(BUILD)/Makefile
	@cmake --build $(BUILD) -j $(JOBS)

$(BUILD)/Makefile:
	@cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

check: all
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_FLAGS)

# The whole suite again under AddressSanitizer + UBSan, no recovery.
check-asan:
	@$(MAKE) --no-print-directory BUILD=build-asan CMAKE_FLAGS="-DST_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug" check

fuzz:
	@scripts/run-fuzz $(FUZZ_SECONDS)

install: all
	@cmake --install $(BUILD)

examples: all
	@./$(BUILD)/spamtrace trace examples/

clean:
	rm -rf $(BUILD) build-asan build-fuzz

.PHONY: all check check-asan fuzz install examples clean
