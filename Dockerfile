# epserve in a container: built from this tree on Debian 12, run as a non-root user on port 80.
# docker build -t epserve . && docker run --rm -p 1234:80 epserve   (then http://localhost:1234/)
#
# Your own site: mount it on the document root, e.g.
#   docker run --rm -p 1234:80 -v "$PWD/site:/srv/www:ro" epserve
# Options go after the image name and replace the default CMD, e.g.
#   docker run --rm -p 1234:80 epserve -i 0.0.0.0 -p 80 -r /srv/www --cache-control 'max-age=60'
# (keep -p 80: the HEALTHCHECK asks port 80). Access log on stdout, everything else on stderr.
# Without a Docker engine (these build machines): scripts/test-container.sh builds it with podman.

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config libspdlog-dev libcxxopts-dev libc-ares-dev libtomlplusplus-dev libcap2-bin \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY src ./src
# A non-root user may bind ports below 1024 only with CAP_NET_BIND_SERVICE: a file capability on
# the binary (Docker lowers ip_unprivileged_port_start to 0 anyway; podman does not). COPY --from
# keeps the security.capability xattr.
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DEPSERVE_TESTS=OFF \
 && cmake --build build -j "$(nproc)" --target epserve epserve-get \
 && strip build/epserve build/epserve-get \
 && install -D -m 0755 build/epserve /out/epserve \
 && install -D -m 0755 build/epserve-get /out/epserve-get \
 && setcap cap_net_bind_service=+ep /out/epserve \
 && getcap /out/epserve | grep -q cap_net_bind_service

FROM debian:bookworm-slim
# Only what the binaries link against: spdlog and its fmt (cxxopts is header-only), c-ares.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libspdlog1.10 libfmt9 libc-ares2 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin epserve
COPY --from=build /out/epserve /out/epserve-get /usr/local/bin/
COPY www /srv/www
USER epserve
EXPOSE 80
# epserve-get (built from the same tree) asks for / with HEAD: exit 0 on 2xx/3xx, 1 or 2 otherwise.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/epserve-get", "-p", "80", "--timeout", "3", "--head", "/"]
# epserve handles SIGTERM itself as PID 1: it finishes responses in flight and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/epserve"]
CMD ["-i", "0.0.0.0", "-p", "80", "-r", "/srv/www"]
