# Thin wrapper around CMake.  `make` builds build/spamtrace, `make check`
# runs every test, `make install` installs (PREFIX=/usr/local by default).
BUILD   ?= build
PREFIX  ?= /usr/local
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
MAKEFLAGS += --no-print-directory
CMAKE_FLAGS ?=

all: $(BUILD)/Makefile
	@cmake --build $(BUILD) -j $(JOBS) -- --no-print-directory

$(BUILD)/Makefile:
	@cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

check: all
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_FLAGS)

# The whole suite again under AddressSanitizer + UBSan (gcc or clang), no
# recovery; LeakSanitizer on.  A sanitizer report exits 86, so a test that
# accepts exit status 1 ("some input had problems") still fails on it.
SAN_EXIT = 86
check-asan:
	@ASAN_OPTIONS=detect_leaks=1:exitcode=$(SAN_EXIT) \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=$(SAN_EXIT) \
	LSAN_OPTIONS=exitcode=$(SAN_EXIT) \
	$(MAKE) --no-print-directory BUILD=build-asan CMAKE_FLAGS="-DST_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug" check

fuzz:
	@scripts/run-fuzz $(FUZZ_SECONDS)

install: all
	@cmake --install $(BUILD)

examples: all
	@./$(BUILD)/spamtrace trace examples/

clean:
	rm -rf $(BUILD) build-asan build-fuzz

.PHONY: all check check-asan fuzz install examples clean
