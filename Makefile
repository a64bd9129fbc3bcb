# The two commands: `make run` serves www/ on 127.0.0.1:8080, `make test` runs every test.
# Both install whatever Debian packages are missing first.

BUILD_DEPS := build-essential cmake pkg-config libspdlog-dev libcxxopts-dev doctest-dev libc-ares-dev libtomlplusplus-dev
TEST_DEPS  := curl netcat-openbsd telnet tmux chromium tshark brotli procps iproute2 ffmpeg gunicorn python3-websockets uwsgi uwsgi-plugin-python3 python3-django wrk prometheus podman-compose logrotate systemd strace python3-yaml
JOBS       ?= $(shell nproc)
ADDR       ?= 127.0.0.1
PORT       ?= 8080

.PHONY: all deps test-deps build build-test run test bench soak memcheck fuzz fuzz-regress lint test-container test-stack test-k8s capture clean

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

# Performance: epserve, nginx and lighttpd side by side (see bench/README.md).
bench: deps
	bash bench/run.sh

# 10 million keep-alive requests: RSS and descriptors must come back (see bench/SOAK.md).
soak: deps
	bash bench/soak.sh

# The server under valgrind memcheck: zero errors, zero leaks, no descriptors left at exit.
memcheck: deps
	bash scripts/memcheck.sh

# libFuzzer targets for FUZZ_SECONDS each (default 60); fuzz-regress replays the corpus only.
fuzz:
	bash scripts/fuzz.sh

fuzz-regress:
	bash scripts/fuzz.sh --regress

# clang-tidy (the checks in .clang-tidy) and cppcheck over src/.
lint:
	bash scripts/lint.sh

# Builds the Docker image and checks it behind -p 127.0.0.1:1234:80 (docker or podman).
test-container: build
	cmake --build build/release -j $(JOBS) --target epserve-get
	bash scripts/test-container.sh

# examples/django/compose.yaml (Django under uWSGI behind epserve) run with podman-compose on
# 127.0.0.1:1234: polls, a CSRF vote, static files, SIGTERM stop with exit code 0.
test-stack:
	@bash scripts/install-deps.sh podman-compose curl iproute2
	bash scripts/test-stack.sh

# Renders deploy/k8s and deploy/k8s/django (kubectl kustomize) and plays them with podman kube
# play (after test-container and test-stack, whose images they run).
test-k8s:
	@bash scripts/install-deps.sh curl iproute2 python3-yaml
	bash scripts/test-k8s.sh
	bash scripts/test-k8s-django.sh

# Leaves capture/epserve.pcapng, a GET of /index.html and of a missing path, for Wireshark.
capture: build
	@bash scripts/install-deps.sh tshark curl iproute2
	bash scripts/capture.sh

clean:
	rm -rf build
