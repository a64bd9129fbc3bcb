# The two commands: `make run` serves www/ on 127.0.0.1:8080, `make test` runs every test.
# Both install whatever Debian packages are missing first.

BUILD_DEPS := build-essential cmake libspdlog-dev libcxxopts-dev doctest-dev
TEST_DEPS  := curl netcat-openbsd
JOBS       ?= $(shell nproc)
ADDR       ?= 127.0.0.1
PORT       ?= 8080

.PHONY: all deps test-deps build run test clean

all: build

deps:
	@bash scripts/install-deps.sh $(BUILD_DEPS)

test-deps: deps
	@bash scripts/install-deps.sh $(TEST_DEPS)

build: deps
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DEPSERVE_TESTS=OFF
	cmake --build build/release -j $(JOBS)

run: build
	./build/release/epserve -i $(ADDR) -p $(PORT) -r www

build-test: test-deps
	cmake -S . -B build/test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEPSERVE_SANITIZE=ON
	cmake --build build/test -j $(JOBS)

test: build-test
	ctest --test-dir build/test --output-on-failure -j $(JOBS)

clean:
	rm -rf build
