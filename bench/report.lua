-- Prints one machine-readable WRK_RESULT line at the end of a wrk run, parsed by bench/run.sh.
-- Loaded with `wrk -s bench/report.lua`, or via dofile() from scripts that also shape requests.

-- wrk calls done() once, in its main thread, after every worker thread has stopped.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d timeout=%d " ..
    "status=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout,
    e.status, latency:percentile(50), latency:percentile(99), latency.max))
end
