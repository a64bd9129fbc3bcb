// End-to-end tests for byte ranges with a real client: curl -r, -C - (resume) and an If-Range
// header, saving bodies to files and comparing them with the file on disk.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "Curl.h"
#include "FeatureSupport.h"
#include "ServedRoot.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kBigSize = 100 * 1024;

struct CurlRangeRoot {
  ServedRoot served;
  std::string big = randomBytes(kBigSize, 0xC0FFEE);
  std::string small = std::string("\x01\x02\r\n\x00", 5);
  std::filesystem::path body;
  std::filesystem::path dump;

  CurlRangeRoot() : body(served.files.base() / "curl-body"), dump(served.files.base() / "curl-head") {
    served.files.writeFile("big.bin", big);
    served.files.writeFile("five.bin", small);
  }

  // curl ARGS... -D dump -o body URL; returns the parsed response (status, headers, body).
  HttpResponse fetch(const std::string& target, std::vector<std::string> args) {
    std::filesystem::remove(body);
    args.insert(args.begin(), {"-sS", "-D", dump.string(), "-o", body.string()});
    args.push_back(served.url(target));
    const CurlResult curl = runCurl(args);
    CAPTURE(curl.err);
    CHECK(curl.exitCode == 0);
    return responseFromCurlDump(readWholeFile(dump),
                                std::filesystem::exists(body) ? readWholeFile(body) : "");
  }
};

TEST_CASE("range: curl -r fetches exactly the requested bytes, big and small file") {
  CurlRangeRoot root;
  struct Case {
    std::string target, spec;
    const std::string* bytes;
    std::size_t first, length;
  };
  const std::vector<Case> cases = {
      {"/big.bin", "0-99", &root.big, 0, 100},
      {"/big.bin", "-500", &root.big, kBigSize - 500, 500},
      {"/big.bin", "100000-", &root.big, 100000, kBigSize - 100000},
      {"/big.bin", "4096-69631", &root.big, 4096, 65536},
      {"/five.bin", "1-3", &root.small, 1, 3},
      {"/five.bin", "-1", &root.small, 4, 1},
  };
  for (const Case& c : cases) {
    CAPTURE(c.target);
    CAPTURE(c.spec);
    const HttpResponse response = root.fetch(c.target, {"-r", c.spec});
    CHECK(response.status == 206);
    CHECK(response.header("Content-Range") ==
          "bytes " + std::to_string(c.first) + "-" + std::to_string(c.first + c.length - 1) +
              "/" + std::to_string(c.bytes->size()));
    CHECK(sameBytes(response.body, c.bytes->substr(c.first, c.length)));
  }
}

TEST_CASE("range: curl -r with two ranges saves a multipart/byteranges body") {
  CurlRangeRoot root;
  const HttpResponse response = root.fetch("/big.bin", {"-r", "0-9,500-509"});
  REQUIRE(response.status == 206);
  std::vector<BytePart> parts;
  try {
    parts = parseByteranges(response);
  } catch (const std::exception& e) {
    FAIL("multipart body does not parse: " << e.what());
  }
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].contentRange == "bytes 0-9/" + std::to_string(kBigSize));
  CHECK(parts[0].bytes == root.big.substr(0, 10));
  CHECK(parts[1].contentRange == "bytes 500-509/" + std::to_string(kBigSize));
  CHECK(parts[1].bytes == root.big.substr(500, 10));
  CHECK(response.header("Content-Length") == std::to_string(response.body.size()));
}

TEST_CASE("range: curl -r past the end gets 416 and curl -C - resumes a download") {
  CurlRangeRoot root;
  const HttpResponse past = root.fetch("/big.bin", {"-r", "200000-"});
  CHECK(past.status == 416);
  CHECK(past.header("Content-Range") == "bytes */" + std::to_string(kBigSize));

  // A download that broke after 40000 bytes, resumed with -C - (curl sends Range: bytes=40000-).
  const auto partial = root.served.files.base() / "partial.bin";
  writeWholeFile(partial, root.big.substr(0, 40000));
  const CurlResult resume =
      runCurl({"-sS", "-C", "-", "-o", partial.string(), "-w", "%{http_code}",
               root.served.url("/big.bin")});
  CAPTURE(resume.err);
  CHECK(resume.exitCode == 0);
  CHECK(resume.out == "206");
  CHECK(sameBytes(readWholeFile(partial), root.big));
  CHECK(root.served.server.waitForOut(
      "\"GET /big.bin HTTP/1.1\" 206 " + std::to_string(kBigSize - 40000) + " ", 5s));
}

TEST_CASE("range: curl -H 'If-Range: ...' gets the range only while the validator matches") {
  CurlRangeRoot root;
  const HttpResponse plain = root.fetch("/big.bin", {});
  REQUIRE(plain.status == 200);
  const std::string etag = plain.header("ETag");
  const std::string lastModified = plain.header("Last-Modified");

  for (const std::string& validator : {etag, lastModified}) {
    CAPTURE(validator);
    const HttpResponse ranged = root.fetch("/big.bin", {"-r", "10-19", "-H", "If-Range: " + validator});
    CHECK(ranged.status == 206);
    CHECK(ranged.body == root.big.substr(10, 10));
  }
  const HttpResponse stale =
      root.fetch("/big.bin", {"-r", "10-19", "-H", "If-Range: \"an-old-version\""});
  CHECK(stale.status == 200);
  CHECK(sameBytes(stale.body, root.big));
  const HttpResponse older = root.fetch(
      "/big.bin",
      {"-r", "10-19", "-H", "If-Range: " + httpDate(parseImfDate(lastModified) - 60, DateForm::ImfFixdate)});
  CHECK(older.status == 200);
  CHECK(sameBytes(older.body, root.big));
}

}  // namespace
}  // namespace epserve::e2e
