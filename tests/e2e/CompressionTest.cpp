// End-to-end tests for precompressed sidecars (FILE.br, FILE.gz made here by the real brotli and
// gzip tools): Accept-Encoding negotiation with q-values (RFC 9110 §12.5.3), the variant's own
// length and ETag, Vary on every response, ranges over the encoded bytes, and curl --compressed.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "Client.h"
#include "Curl.h"
#include "FeatureSupport.h"
#include "ServedRoot.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;

// Text that compresses, but only to about half (hex digits), so both sidecars of app.js stay
// above the 16 KiB in-memory limit and go out with sendfile, as the original does.
std::string scriptText() {
  const std::string hex = "0123456789abcdef";
  const std::string noise = randomBytes(40000, 0x15);
  std::string js = "// generated for the compression tests\nconst chunks = [\n";
  for (std::size_t i = 0; i < noise.size(); i += 32) {
    js += "  \"";
    for (std::size_t k = i; k < i + 32 && k < noise.size(); ++k) {
      js += hex[static_cast<unsigned char>(noise[k]) >> 4];
      js += hex[static_cast<unsigned char>(noise[k]) & 15];
    }
    js += "\",\n";
  }
  js += "];\nconsole.log(chunks.length);\n";
  return js;
}

void compressWith(const std::vector<std::string>& argv) {
  std::string err;
  const int status = runTool(argv, 60s, &err);
  INFO(argv[0] << " stderr: " << err);
  REQUIRE(status == 0);
}

// app.js (big, .br and .gz), small.css (small, .br and .gz), only-gz.txt (.gz only) and
// plain.txt (no sidecar), with the sidecars made by the command-line tools.
struct CompressedRoot {
  ServedRoot served;
  std::filesystem::path dir;

  explicit CompressedRoot(const std::vector<std::string>& args = {})
      : served(args), dir(served.files.root()) {
    served.files.writeFile("app.js", scriptText());
    served.files.writeFile("small.css", "body { margin: 0; padding: 0; color: #222; }\n"
                                        "body { margin: 0; padding: 0; color: #222; }\n");
    served.files.writeFile("only-gz.txt", std::string(5000, 'g') + "\n");
    served.files.writeFile("plain.txt", std::string(5000, 'p') + "\n");
    for (const char* name : {"app.js", "small.css", "only-gz.txt"}) {
      compressWith({"gzip", "-k", "-9", "-n", (dir / name).string()});
    }
    for (const char* name : {"app.js", "small.css"}) {
      compressWith({"brotli", "-k", "-f", "-q", "11", (dir / name).string()});
    }
  }

  std::string bytes(const std::string& name) const { return served.files.readFile(name); }
};

std::string withEncoding(const std::string& target, const std::string& acceptEncoding,
                         const std::string& more = {}) {
  return requestHead("GET", target, "Accept-Encoding: " + acceptEncoding + "\r\n" + more);
}

TEST_CASE("compress: the sidecars are real brotli and gzip files, smaller than the original") {
  CompressedRoot root;
  const std::string js = root.bytes("app.js");
  const std::string br = root.bytes("app.js.br");
  const std::string gz = root.bytes("app.js.gz");
  CHECK(gz.substr(0, 2) == "\x1f\x8b");  // RFC 1952 §2.3.1
  CHECK(br.size() < js.size());
  CHECK(gz.size() < js.size());
  // Both sidecars of app.js are large enough to be sent with sendfile, like the original.
  CHECK(br.size() > 16 * 1024);
  CHECK(gz.size() > 16 * 1024);
  CHECK(root.bytes("small.css.br").size() < 16 * 1024);
}

TEST_CASE("compress: br or gzip gets the sidecar with its own length and ETag, original type") {
  CompressedRoot root;
  Client client = root.served.connect();
  for (const std::string name : {"app.js", "small.css"}) {
    CAPTURE(name);
    const HttpResponse plain = client.request(requestHead("GET", "/" + name));
    REQUIRE(plain.status == 200);
    CHECK_FALSE(plain.has("Content-Encoding"));
    CHECK(sameBytes(plain.body, root.bytes(name)));
    const std::string brTag = client.request(requestHead("GET", "/" + name + ".br")).header("ETag");
    const std::string gzTag = client.request(requestHead("GET", "/" + name + ".gz")).header("ETag");
    CHECK(brTag != gzTag);

    const std::vector<std::pair<std::string, std::string>> cases = {
        {"br", "br"},           {"gzip", "gzip"},         {"x-gzip", "gzip"},
        {"gzip, deflate, br", "br"}, {"BR", "br"},        {"deflate, gzip", "gzip"},
    };
    for (const auto& [accept, coding] : cases) {
      CAPTURE(accept);
      const HttpResponse r = client.request(withEncoding("/" + name, accept));
      const std::string sidecar = name + (coding == "br" ? ".br" : ".gz");
      CHECK(r.status == 200);
      CHECK(r.header("Content-Encoding") == coding);
      CHECK(r.header("Content-Type") == plain.header("Content-Type"));
      CHECK(r.header("Content-Length") == std::to_string(root.bytes(sidecar).size()));
      CHECK(r.header("ETag") == (coding == "br" ? brTag : gzTag));
      CHECK(r.header("ETag") != plain.header("ETag"));
      CHECK(r.header("Vary") == "Accept-Encoding");
      CHECK(r.headerCount("Vary") == 1);
      CHECK(sameBytes(r.body, root.bytes(sidecar)));
    }
  }
}

TEST_CASE("compress: q-values choose the coding, q=0 refuses one, ties prefer br") {
  CompressedRoot root;
  Client client = root.served.connect();
  // expected: "br", "gzip" or "" for the identity file
  const std::vector<std::pair<std::string, std::string>> both = {
      {"gzip;q=1, br;q=0.5", "gzip"},
      {"br;q=0.5, gzip;q=0.4", "br"},
      {"br;q=0.9,gzip;q=0.95", "gzip"},
      {"br;q=0, gzip", "gzip"},
      {"br;q=0, gzip;q=0", ""},
      {"br;q=0.0, gzip;q=0.000", ""},
      {"gzip;q=0.5, br;q=0.5", "br"},
      {"gzip; Q=0.5 , br ;q=0.25", "gzip"},
      {"*", "br"},
      {"*;q=0.5, br;q=0", "gzip"},
      {"identity", ""},
      {"identity;q=1, gzip;q=0.5", ""},
      {"identity;q=0.2, gzip;q=0.5", "gzip"},
      {"deflate", ""},
      {"compress, zstd", ""},
      {"", ""},
  };
  for (const auto& [accept, coding] : both) {
    CAPTURE(accept);
    const HttpResponse r = client.request(withEncoding("/app.js", accept));
    CHECK(r.status == 200);
    CHECK(r.header("Content-Encoding") == coding);
    CHECK(r.header("Vary") == "Accept-Encoding");
    const std::string file = coding.empty() ? "app.js" : coding == "br" ? "app.js.br" : "app.js.gz";
    CHECK(sameBytes(r.body, root.bytes(file)));
  }
  // Only a .gz beside the file: br alone cannot be had, so the plain file.
  const std::vector<std::pair<std::string, std::string>> gzipOnly = {
      {"br", ""}, {"br, gzip;q=0.1", "gzip"}, {"gzip;q=0", ""}, {"*", "gzip"}};
  for (const auto& [accept, coding] : gzipOnly) {
    CAPTURE(accept);
    const HttpResponse r = client.request(withEncoding("/only-gz.txt", accept));
    CHECK(r.status == 200);
    CHECK(r.header("Content-Encoding") == coding);
    CHECK(r.header("Vary") == "Accept-Encoding");
    CHECK(r.body == root.bytes(coding.empty() ? "only-gz.txt" : "only-gz.txt.gz"));
  }
}

TEST_CASE("compress: Vary: Accept-Encoding on every response for a file with a sidecar") {
  CompressedRoot root;
  Client client = root.served.connect();
  const HttpResponse none = client.request(requestHead("GET", "/app.js"));
  const HttpResponse identity = client.request(withEncoding("/app.js", "identity"));
  const HttpResponse br = client.request(withEncoding("/app.js", "br"));
  const HttpResponse head = client.request(
      requestHead("HEAD", "/app.js", "Accept-Encoding: gzip\r\n"), true);
  const HttpResponse ranged = client.request(withEncoding("/app.js", "br", "Range: bytes=0-9\r\n"));
  const HttpResponse notModified = client.request(
      withEncoding("/app.js", "br", "If-None-Match: " + br.header("ETag") + "\r\n"));
  const HttpResponse identityNotModified =
      client.request(requestHead("GET", "/app.js", "If-None-Match: " + none.header("ETag") + "\r\n"));
  int i = 0;
  for (const HttpResponse* r : {&none, &identity, &br, &head, &ranged, &notModified,
                                &identityNotModified}) {
    CAPTURE(i++);
    CHECK(r->header("Vary") == "Accept-Encoding");
    CHECK(r->headerCount("Vary") == 1);
  }
  CHECK(notModified.status == 304);
  CHECK(notModified.header("ETag") == br.header("ETag"));
  CHECK(identityNotModified.status == 304);
  CHECK(head.status == 200);
  CHECK(head.header("Content-Encoding") == "gzip");
  CHECK(head.header("Content-Length") == std::to_string(root.bytes("app.js.gz").size()));

  // A file with no sidecar does not vary.
  const HttpResponse plain = client.request(withEncoding("/plain.txt", "br, gzip"));
  CHECK(plain.status == 200);
  CHECK_FALSE(plain.has("Vary"));
  CHECK_FALSE(plain.has("Content-Encoding"));
  CHECK(plain.body == root.bytes("plain.txt"));
}

TEST_CASE("compress: each variant's ETag validates only that variant") {
  CompressedRoot root;
  Client client = root.served.connect();
  const std::string identityTag = client.request(requestHead("GET", "/app.js")).header("ETag");
  const std::string brTag = client.request(withEncoding("/app.js", "br")).header("ETag");
  // A cache holding the br variant asks again without br: it must get the plain file, not 304.
  const HttpResponse other =
      client.request(requestHead("GET", "/app.js", "If-None-Match: " + brTag + "\r\n"));
  CHECK(other.status == 200);
  CHECK_FALSE(other.has("Content-Encoding"));
  CHECK(sameBytes(other.body, root.bytes("app.js")));
  const HttpResponse swapped =
      client.request(withEncoding("/app.js", "br", "If-None-Match: " + identityTag + "\r\n"));
  CHECK(swapped.status == 200);
  CHECK(swapped.header("Content-Encoding") == "br");
  CHECK(sameBytes(swapped.body, root.bytes("app.js.br")));
  // A cache holding two variants lists both tags: the one matching the chosen variant counts.
  const std::string list = "If-None-Match: " + identityTag + ", " + brTag + "\r\n";
  const HttpResponse cachedBr = client.request(withEncoding("/app.js", "br", list));
  CHECK(cachedBr.status == 304);
  CHECK(cachedBr.header("ETag") == brTag);
  const HttpResponse notCached = client.request(withEncoding("/app.js", "gzip", list));
  CHECK(notCached.status == 200);
  CHECK(notCached.header("Content-Encoding") == "gzip");
  CHECK(sameBytes(notCached.body, root.bytes("app.js.gz")));
}

TEST_CASE("compress: Range on a negotiated variant selects bytes of the encoded file") {
  CompressedRoot root;
  Client client = root.served.connect();
  const std::string gz = root.bytes("app.js.gz");
  const HttpResponse r = client.request(withEncoding("/app.js", "gzip", "Range: bytes=0-9\r\n"));
  CHECK(r.status == 206);
  CHECK(r.header("Content-Encoding") == "gzip");
  CHECK(r.header("Content-Range") == "bytes 0-9/" + std::to_string(gz.size()));
  CHECK(r.body == gz.substr(0, 10));
  const HttpResponse tail = client.request(withEncoding("/app.js", "br", "Range: bytes=-100\r\n"));
  const std::string br = root.bytes("app.js.br");
  CHECK(tail.status == 206);
  CHECK(tail.header("Content-Range") ==
        "bytes " + std::to_string(br.size() - 100) + "-" + std::to_string(br.size() - 1) + "/" +
            std::to_string(br.size()));
  CHECK(tail.body == br.substr(br.size() - 100));
  // If-Range compares with the variant's own ETag.
  const HttpResponse ifRange = client.request(withEncoding(
      "/app.js", "br", "Range: bytes=0-1\r\nIf-Range: " + tail.header("ETag") + "\r\n"));
  CHECK(ifRange.status == 206);
  CHECK(ifRange.body == br.substr(0, 2));
}

TEST_CASE("compress: a sidecar requested by name is sent as it is, not as an encoding") {
  CompressedRoot root;
  Client client = root.served.connect();
  const HttpResponse gz = client.request(withEncoding("/app.js.gz", "gzip, br"));
  CHECK(gz.status == 200);
  CHECK_FALSE(gz.has("Content-Encoding"));
  CHECK(gz.header("Content-Type") == "application/gzip");
  CHECK(sameBytes(gz.body, root.bytes("app.js.gz")));
  const HttpResponse br = client.request(requestHead("GET", "/small.css.br"));
  CHECK(br.status == 200);
  CHECK_FALSE(br.has("Content-Encoding"));
  CHECK(br.body == root.bytes("small.css.br"));
}

TEST_CASE("compress: sidecars created or removed on disk are used from the next request") {
  CompressedRoot root;
  Client client = root.served.connect();
  const std::filesystem::path dir = root.served.files.root();
  CHECK(client.request(withEncoding("/only-gz.txt", "br, gzip")).header("Content-Encoding") ==
        "gzip");
  compressWith({"brotli", "-k", "-f", (dir / "only-gz.txt").string()});
  const HttpResponse nowBr = client.request(withEncoding("/only-gz.txt", "br, gzip"));
  CHECK(nowBr.header("Content-Encoding") == "br");
  CHECK(nowBr.body == root.bytes("only-gz.txt.br"));

  std::filesystem::remove(dir / "only-gz.txt.br");
  std::filesystem::remove(dir / "only-gz.txt.gz");
  const HttpResponse plain = client.request(withEncoding("/only-gz.txt", "br, gzip"));
  CHECK(plain.status == 200);
  CHECK_FALSE(plain.has("Content-Encoding"));
  CHECK_FALSE(plain.has("Vary"));
  CHECK(plain.body == root.bytes("only-gz.txt"));
}

TEST_CASE("compress: curl --compressed decodes br and gzip back to the original bytes") {
  CompressedRoot root;
  const auto body = root.served.files.base() / "curl-body";
  const auto dump = root.served.files.base() / "curl-head";
  struct Case {
    std::vector<std::string> extra;
    std::string coding;
  };
  // curl 7.88 offers "deflate, gzip, br, zstd" with --compressed; -H narrows that to one coding.
  const std::vector<Case> cases = {{{"--compressed"}, "br"},
                                   {{"--compressed", "-H", "Accept-Encoding: gzip"}, "gzip"},
                                   {{}, ""}};
  for (const std::string name : {"app.js", "small.css"}) {
    for (const Case& c : cases) {
      CAPTURE(name);
      CAPTURE(c.coding);
      std::vector<std::string> args = {"-sS", "-D", dump.string(), "-o", body.string(), "-w",
                                       "%{size_download}"};
      args.insert(args.end(), c.extra.begin(), c.extra.end());
      args.push_back(root.served.url("/" + name));
      const CurlResult curl = runCurl(args);
      CAPTURE(curl.err);
      REQUIRE(curl.exitCode == 0);
      const HttpResponse head = responseFromCurlDump(readWholeFile(dump), "");
      CHECK(head.status == 200);
      CHECK(head.header("Content-Encoding") == c.coding);
      // What went over the wire is the sidecar; what curl wrote is the decoded original.
      const std::string wire = c.coding.empty() ? name : name + (c.coding == "br" ? ".br" : ".gz");
      CHECK(curl.out == std::to_string(root.bytes(wire).size()));
      CHECK(sameBytes(readWholeFile(body), root.bytes(name)));
    }
  }
}

}  // namespace
}  // namespace epserve::e2e
