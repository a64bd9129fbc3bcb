# epserve in a container: built from this tree on Debian 12, run as a non-root user on port 80,
# from an image that holds the two binaries, the libraries they load, the site, and nothing else.
# docker build -t epserve . && docker run --rm -p 1234:80 epserve   (then http://localhost:1234/)
#
# Your own site: mount it on the document root, e.g.
#   docker run --rm -p 1234:80 -v "$PWD/site:/srv/www:ro" epserve
# Options go after the image name and replace the default CMD, e.g.
#   docker run --rm -p 1234:80 epserve -i 0.0.0.0 -p 80 -r /srv/www --health-path /healthz --cache-control 'max-age=60'
# (keep -p 80 and --health-path /healthz: the HEALTHCHECK asks port 80 for /healthz). Access log on stdout, everything else on stderr.
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
# the binary (Docker lowers ip_unprivileged_port_start to 0 anyway; podman does not). Permitted
# only (+p), raised by epserve itself before it binds: an effective (+ep) one makes exec fail
# where the capability cannot be granted (a Kubernetes pod that drops ALL). COPY --from keeps the
# security.capability xattr.
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DEPSERVE_TESTS=OFF \
 && cmake --build build -j "$(nproc)" --target epserve epserve-get \
 && strip build/epserve build/epserve-get \
 && install -D -m 0755 build/epserve /out/root/usr/local/bin/epserve \
 && install -D -m 0755 build/epserve-get /out/root/usr/local/bin/epserve-get \
 && setcap cap_net_bind_service=+p /out/root/usr/local/bin/epserve \
 && getcap /out/root/usr/local/bin/epserve | grep -q 'cap_net_bind_service=p'
# The run-time root is what the dynamic loader needs and no more: the loader and every library
# ldd names (libc, libm, libstdc++, libgcc_s, spdlog, fmt, c-ares), copied as files under their
# own paths, so a new dependency comes along by itself. No shell, no package manager, no
# /etc/passwd: the user is numeric. Names still resolve: c-ares reads /etc/resolv.conf and
# /etc/hosts, which the engine mounts into every container (compose and Kubernetes service names).
RUN ldd /out/root/usr/local/bin/epserve /out/root/usr/local/bin/epserve-get \
      | awk '$2 == "=>" && $3 ~ /^\// { print $3 } NF == 2 && $1 ~ /^\// { print $1 }' | sort -u \
      | while read -r lib; do cp --parents -L "$lib" /out/root/ || exit 1; done \
 && mkdir -p /out/root/tmp && chmod 1777 /out/root/tmp

FROM scratch
COPY --from=build /out/root/ /
COPY www /srv/www
# 65532: the conventional "nonroot" id of distroless images; nothing in the image is owned by it,
# so the server can read the site and write nothing but /tmp (proxy temp files, --temp-dir).
USER 65532:65532
EXPOSE 80
# epserve-get (built from the same tree) asks --health-path with HEAD: exit 0 on 2xx/3xx, 1 or 2
# otherwise (503 while draining). Exec form: the image has no shell.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/epserve-get", "-p", "80", "--timeout", "3", "--head", "/healthz"]
# epserve handles SIGTERM itself as PID 1: it finishes responses in flight and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/epserve"]
CMD ["-i", "0.0.0.0", "-p", "80", "-r", "/srv/www", "--health-path", "/healthz"]
