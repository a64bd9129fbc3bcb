// End-to-end tests for byte range requests (RFC 9110 §14) over raw sockets: single ranges, 416,
// ignored Range values, multipart/byteranges, If-Range and HEAD, on a file sent with sendfile
// (100 KiB, above the 16 KiB in-memory limit) and on a 5-byte file served from memory.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "Client.h"
#include "FeatureSupport.h"
#include "ServedRoot.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kBigSize = 100 * 1024;

// A served root with the two binaries every range test uses, and an empty file.
struct RangeRoot {
  ServedRoot served;
  std::string big;
  std::string small;

  explicit RangeRoot(const std::vector<std::string>& args = {})
      : served(args), big(randomBytes(kBigSize, 0xB16)), small(std::string("\0\r\n\xff" "z", 5)) {
    served.files.writeFile("big.bin", big);
    served.files.writeFile("five.bin", small);
    served.files.writeFile("zero.bin", "");
  }
};

struct Fixture {
  const char* target;
  const std::string* bytes;
};

std::string rangeHead(const std::string& target, const std::string& range,
                      const std::string& more = {}) {
  return requestHead("GET", target, "Range: " + range + "\r\n" + more);
}

std::string contentRange(std::uint64_t first, std::uint64_t last, std::uint64_t size) {
  return "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
         std::to_string(size);
}

TEST_CASE("range: files advertise Accept-Ranges: bytes on GET and HEAD, big and small") {
  RangeRoot root;
  Client client = root.served.connect();
  for (const std::string target : {"/big.bin", "/five.bin", "/index.html"}) {
    CAPTURE(target);
    const HttpResponse get = client.request(requestHead("GET", target));
    CHECK(get.status == 200);
    CHECK(get.header("Accept-Ranges") == "bytes");
    CHECK_FALSE(get.has("Content-Range"));
    const HttpResponse head = client.request(requestHead("HEAD", target), true);
    CHECK(head.status == 200);
    CHECK(head.header("Accept-Ranges") == "bytes");
  }
  CHECK(sameBytes(client.request(requestHead("GET", "/big.bin")).body, root.big));
}

TEST_CASE("range: a-b, a- and -n give 206 with Content-Range and exactly those bytes") {
  RangeRoot root;
  Client client = root.served.connect();
  struct Case {
    const char* target;
    const std::string* bytes;
    std::string spec;
    std::uint64_t first, last;
  };
  const std::uint64_t b = kBigSize;
  const std::vector<Case> cases = {
      // sendfile from the cached descriptor, at an offset
      {"/big.bin", &root.big, "bytes=0-0", 0, 0},
      {"/big.bin", &root.big, "bytes=0-99", 0, 99},
      {"/big.bin", &root.big, "bytes=1000-70999", 1000, 70999},
      {"/big.bin", &root.big, "bytes=100000-", 100000, b - 1},
      {"/big.bin", &root.big, "bytes=-1", b - 1, b - 1},
      {"/big.bin", &root.big, "bytes=-500", b - 500, b - 1},
      {"/big.bin", &root.big, "bytes=0-", 0, b - 1},
      {"/big.bin", &root.big, "bytes=102000-999999", 102000, b - 1},  // last clamped
      {"/big.bin", &root.big, "bytes=-999999", 0, b - 1},             // suffix > size: all
      {"/big.bin", &root.big, "BYTES=7-8", 7, 8},                      // unit is case-insensitive
      // the 5-byte file comes from memory
      {"/five.bin", &root.small, "bytes=0-0", 0, 0},
      {"/five.bin", &root.small, "bytes=1-3", 1, 3},
      {"/five.bin", &root.small, "bytes=4-", 4, 4},
      {"/five.bin", &root.small, "bytes=-2", 3, 4},
      {"/five.bin", &root.small, "bytes=2-100", 2, 4},
      {"/five.bin", &root.small, "bytes=-9", 0, 4},
  };
  const HttpResponse plain = client.request(requestHead("GET", "/big.bin"));
  for (const Case& c : cases) {
    CAPTURE(c.target);
    CAPTURE(c.spec);
    const HttpResponse response = client.request(rangeHead(c.target, c.spec));
    CHECK(response.status == 206);
    CHECK(response.header("Content-Range") == contentRange(c.first, c.last, c.bytes->size()));
    CHECK(response.header("Content-Length") == std::to_string(c.last - c.first + 1));
    CHECK(response.header("Content-Type") == "application/octet-stream");
    CHECK(response.header("Accept-Ranges") == "bytes");
    CHECK(response.has("ETag"));
    CHECK(response.has("Last-Modified"));
    CHECK(sameBytes(response.body, c.bytes->substr(c.first, c.last - c.first + 1)));
    CHECK_FALSE(response.connectionHas("close"));
  }
  // The validators of a part are those of the whole representation.
  CHECK(client.request(rangeHead("/big.bin", "bytes=5-6")).header("ETag") == plain.header("ETag"));
}

TEST_CASE("range: unsatisfiable ranges give 416 with Content-Range bytes */LEN, connection kept") {
  RangeRoot root;
  Client client = root.served.connect();
  const std::string bigLen = std::to_string(kBigSize);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/big.bin", "bytes=" + bigLen + "-"},
      {"/big.bin", "bytes=" + bigLen + "-" + std::to_string(kBigSize + 10)},
      {"/big.bin", "bytes=999999999-"},
      {"/big.bin", "bytes=-0"},
      {"/big.bin", "bytes=200000-,300000-300001"},  // every member unsatisfiable
      {"/five.bin", "bytes=5-"},
      {"/five.bin", "bytes=-0"},
      {"/zero.bin", "bytes=0-"},  // nothing at all can be selected from an empty file
      {"/zero.bin", "bytes=-5"},
  };
  for (const auto& [target, spec] : cases) {
    CAPTURE(target);
    CAPTURE(spec);
    const HttpResponse response = client.request(rangeHead(target, spec));
    CHECK(response.status == 416);
    const std::string size = target == "/big.bin" ? bigLen : target == "/five.bin" ? "5" : "0";
    CHECK(response.header("Content-Range") == "bytes */" + size);
    CHECK(response.header("Content-Length") == std::to_string(response.body.size()));
    CHECK_FALSE(response.connectionHas("close"));
    // The connection is still in step: the next response is the file, not leftover bytes.
    const HttpResponse next = client.request(requestHead("GET", "/five.bin"));
    CHECK(next.status == 200);
    CHECK(next.body == root.small);
  }
}

TEST_CASE("range: invalid syntax or an unknown unit is ignored: 200 with the whole file") {
  RangeRoot root;
  Client client = root.served.connect();
  const std::vector<std::string> values = {
      "bytes=5-2",        // last < first
      "bytes=abc",        "items=0-1",  // unknown unit
      "bytes 0-1",        // '=' missing
      "bytes=",           "bytes=1-2-3", "bytes=--1", "bytes=0-1;x",
      "bytes=12345678901234567890-",     // would overflow 64 bits
      "bytes=0x10-",      "bytes=1 -2",  "=0-1",
  };
  for (const Fixture& f : {Fixture{"/big.bin", &root.big}, Fixture{"/five.bin", &root.small}}) {
    for (const std::string& value : values) {
      CAPTURE(f.target);
      CAPTURE(value);
      const HttpResponse response = client.request(rangeHead(f.target, value));
      CHECK(response.status == 200);
      CHECK_FALSE(response.has("Content-Range"));
      CHECK(response.header("Content-Length") == std::to_string(f.bytes->size()));
      CHECK(sameBytes(response.body, *f.bytes));
    }
  }
}

void checkParts(const HttpResponse& response, const std::string& bytes,
                const std::vector<std::pair<std::uint64_t, std::uint64_t>>& expected,
                const std::string& partType) {
  REQUIRE(response.status == 206);
  CHECK_FALSE(response.has("Content-Range"));  // §14.6: only inside the parts
  CHECK(response.header("Content-Length") == std::to_string(response.body.size()));
  std::vector<BytePart> parts;
  try {
    parts = parseByteranges(response);
  } catch (const std::exception& e) {
    FAIL_CHECK("multipart body does not parse: " << e.what());
    return;
  }
  REQUIRE(parts.size() == expected.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    CAPTURE(i);
    const auto [first, last] = expected[i];
    CHECK(parts[i].contentType == partType);
    CHECK(parts[i].contentRange == contentRange(first, last, bytes.size()));
    CHECK(sameBytes(parts[i].bytes, bytes.substr(first, last - first + 1)));
  }
}

TEST_CASE("range: several ranges give 206 multipart/byteranges, one part per range") {
  RangeRoot root;
  root.served.files.writeFile("page.txt", std::string(3000, 'x') + "middle" + std::string(3000, 'y'));
  const std::string page = root.served.files.readFile("page.txt");
  Client client = root.served.connect();
  const std::uint64_t b = kBigSize;

  const HttpResponse three = client.request(rangeHead("/big.bin", "bytes=0-9,1000-1099,-16"));
  CHECK(three.header("Content-Type").rfind("multipart/byteranges; boundary=", 0) == 0);
  checkParts(three, root.big, {{0, 9}, {1000, 1099}, {b - 16, b - 1}}, "application/octet-stream");

  // Parts come in ascending order whatever order they were asked in (RFC 9110 §14.6 allows it).
  const HttpResponse reversed = client.request(rangeHead("/big.bin", "bytes=50000-50009, 0-0"));
  checkParts(reversed, root.big, {{0, 0}, {50000, 50009}}, "application/octet-stream");

  // The small file's parts come from memory.
  const HttpResponse small = client.request(rangeHead("/five.bin", "bytes=0-0,2-2,-1"));
  checkParts(small, root.small, {{0, 0}, {2, 2}, {4, 4}}, "application/octet-stream");

  // Each part repeats the representation's own media type.
  const HttpResponse text = client.request(rangeHead("/page.txt", "bytes=3000-3005,0-1"));
  checkParts(text, page, {{0, 1}, {3000, 3005}}, "text/plain; charset=utf-8");

  // Sixteen ranges are the most honoured.
  std::string sixteen = "bytes=";
  std::vector<std::pair<std::uint64_t, std::uint64_t>> expected;
  for (std::uint64_t i = 0; i < 16; ++i) {
    sixteen += (i ? "," : "") + std::to_string(i * 6000) + "-" + std::to_string(i * 6000 + 9);
    expected.emplace_back(i * 6000, i * 6000 + 9);
  }
  checkParts(client.request(rangeHead("/big.bin", sixteen)), root.big, expected,
             "application/octet-stream");

  // Unsatisfiable members are dropped; one satisfiable range left is a plain 206, not multipart.
  const HttpResponse one = client.request(rangeHead("/big.bin", "bytes=0-1,999999-"));
  CHECK(one.status == 206);
  CHECK(one.header("Content-Range") == contentRange(0, 1, b));
  CHECK(one.header("Content-Type") == "application/octet-stream");
  CHECK(one.body == root.big.substr(0, 2));

  // The boundary is not a constant a file could be crafted to contain.
  const HttpResponse again = client.request(rangeHead("/big.bin", "bytes=0-9,1000-1099,-16"));
  CHECK(boundaryOf(again.header("Content-Type")) != boundaryOf(three.header("Content-Type")));
}

TEST_CASE("range: overlapping, adjacent or more than 16 ranges get 200 with the whole file") {
  RangeRoot root;
  Client client = root.served.connect();
  std::string seventeen = "bytes=";
  for (int i = 0; i < 17; ++i) {
    seventeen += (i ? "," : "") + std::to_string(i * 10) + "-" + std::to_string(i * 10 + 1);
  }
  for (const std::string& value :
       {std::string("bytes=0-10,5-20"), std::string("bytes=0-9,10-19"),
        std::string("bytes=0-,-5"), std::string("bytes=100-200,150-160"), seventeen}) {
    CAPTURE(value);
    const HttpResponse response = client.request(rangeHead("/big.bin", value));
    CHECK(response.status == 200);
    CHECK_FALSE(response.has("Content-Range"));
    CHECK(sameBytes(response.body, root.big));
  }
  const HttpResponse small = client.request(rangeHead("/five.bin", "bytes=0-1,1-2"));
  CHECK(small.status == 200);
  CHECK(small.body == root.small);
}

TEST_CASE("range: If-Range with the ETag or Last-Modified honours Range, else 200 whole file") {
  RangeRoot root;
  Client client = root.served.connect();
  for (const Fixture& f : {Fixture{"/big.bin", &root.big}, Fixture{"/five.bin", &root.small}}) {
    CAPTURE(f.target);
    const HttpResponse plain = client.request(requestHead("GET", f.target));
    REQUIRE(plain.status == 200);
    const std::string etag = plain.header("ETag");
    const std::string lastModified = plain.header("Last-Modified");
    const std::time_t mtime = parseImfDate(lastModified);

    const std::vector<std::string> honoured = {
        etag, lastModified, httpDate(mtime, DateForm::Rfc850), httpDate(mtime, DateForm::Asctime)};
    for (const std::string& validator : honoured) {
      CAPTURE(validator);
      const HttpResponse r = client.request(rangeHead(f.target, "bytes=1-3", "If-Range: " + validator + "\r\n"));
      CHECK(r.status == 206);
      CHECK(r.header("Content-Range") == contentRange(1, 3, f.bytes->size()));
      CHECK(r.body == f.bytes->substr(1, 3));
    }
    const std::vector<std::string> refused = {
        "\"some-other-tag\"", "W/" + etag,  // If-Range needs a strong match (RFC 9110 §13.1.5)
        httpDate(mtime - 1, DateForm::ImfFixdate), httpDate(mtime + 1, DateForm::ImfFixdate),
        "not a validator"};
    for (const std::string& validator : refused) {
      CAPTURE(validator);
      const HttpResponse r = client.request(rangeHead(f.target, "bytes=1-3", "If-Range: " + validator + "\r\n"));
      CHECK(r.status == 200);
      CHECK_FALSE(r.has("Content-Range"));
      CHECK(sameBytes(r.body, *f.bytes));
    }
    // A matching If-Range lets a multipart Range through; a mismatch turns even 416 into 200.
    const HttpResponse multi =
        client.request(rangeHead(f.target, "bytes=0-0,2-3", "If-Range: " + etag + "\r\n"));
    checkParts(multi, *f.bytes, {{0, 0}, {2, 3}}, "application/octet-stream");
    const HttpResponse stale =
        client.request(rangeHead(f.target, "bytes=999999-", "If-Range: \"stale\"\r\n"));
    CHECK(stale.status == 200);
    CHECK(sameBytes(stale.body, *f.bytes));
  }
}

TEST_CASE("range: If-Range with the ETag of an older version gets the new file whole") {
  RangeRoot root;
  Client client = root.served.connect();
  const HttpResponse first = client.request(rangeHead("/big.bin", "bytes=0-49999"));
  REQUIRE(first.status == 206);
  // The file is replaced (same size, new bytes) between the two halves of a resumed download.
  const std::string replaced = randomBytes(kBigSize, 0x5EC0);
  root.served.files.writeFile("big.bin", replaced);
  const HttpResponse resume = client.request(
      rangeHead("/big.bin", "bytes=50000-", "If-Range: " + first.header("ETag") + "\r\n"));
  CHECK(resume.status == 200);
  CHECK(resume.header("ETag") != first.header("ETag"));
  CHECK(sameBytes(resume.body, replaced));
}

TEST_CASE("range: HEAD with Range answers the headers GET would, without a body") {
  RangeRoot root;
  Client client = root.served.connect();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/big.bin", "bytes=10-20"}, {"/five.bin", "bytes=-2"},  {"/big.bin", "bytes=999999-"},
      {"/five.bin", "bytes=9-"},   {"/big.bin", "bytes=2-1"},
  };
  for (const auto& [target, spec] : cases) {
    CAPTURE(target);
    CAPTURE(spec);
    const HttpResponse get = client.request(rangeHead(target, spec));
    const HttpResponse head =
        client.request(requestHead("HEAD", target, "Range: " + spec + "\r\n"), true);
    CHECK(head.status == get.status);
    CHECK(headerDifferences(get, head) == "");
    // Body bytes after a HEAD response would be read as the next status line.
    const HttpResponse next = client.request(requestHead("GET", "/five.bin"));
    CHECK(next.status == 200);
    CHECK(next.body == root.small);
  }
  // multipart: the same length and media type; only the boundary is new for each response.
  const HttpResponse get = client.request(rangeHead("/big.bin", "bytes=0-9,100-199"));
  const HttpResponse head =
      client.request(requestHead("HEAD", "/big.bin", "Range: bytes=0-9,100-199\r\n"), true);
  CHECK(head.status == 206);
  CHECK(headerDifferences(get, head, {"Content-Type"}) == "");
  CHECK(boundaryOf(head.header("Content-Type")).size() == boundaryOf(get.header("Content-Type")).size());
  const HttpResponse next = client.request(requestHead("GET", "/five.bin"));
  CHECK(next.status == 200);
  CHECK(next.body == root.small);
}

TEST_CASE("range: preconditions come first: 304 and 412 are sent whatever the Range") {
  RangeRoot root;
  Client client = root.served.connect();
  const std::string etag = client.request(requestHead("GET", "/big.bin")).header("ETag");
  const HttpResponse notModified =
      client.request(rangeHead("/big.bin", "bytes=0-9", "If-None-Match: " + etag + "\r\n"));
  CHECK(notModified.status == 304);
  CHECK_FALSE(notModified.has("Content-Range"));
  CHECK(notModified.body.empty());
  const HttpResponse failed =
      client.request(rangeHead("/big.bin", "bytes=0-9", "If-Match: \"other\"\r\n"));
  CHECK(failed.status == 412);
  CHECK_FALSE(failed.has("Content-Range"));
  const HttpResponse matched =
      client.request(rangeHead("/big.bin", "bytes=0-9", "If-Match: " + etag + "\r\n"));
  CHECK(matched.status == 206);
  CHECK(matched.body == root.big.substr(0, 10));
}

TEST_CASE("range: pipelined range requests on a large file are answered in order") {
  RangeRoot root;
  Client client = root.served.connect();
  client.send(rangeHead("/big.bin", "bytes=90000-99999") + rangeHead("/big.bin", "bytes=-3") +
              rangeHead("/five.bin", "bytes=1-1") +
              rangeHead("/big.bin", "bytes=0-4,60000-60004") + requestHead("GET", "/big.bin") +
              rangeHead("/big.bin", "bytes=12345-12345"));
  const HttpResponse r1 = client.readResponse();
  CHECK(r1.status == 206);
  CHECK(sameBytes(r1.body, root.big.substr(90000, 10000)));
  const HttpResponse r2 = client.readResponse();
  CHECK(r2.body == root.big.substr(kBigSize - 3));
  const HttpResponse r3 = client.readResponse();
  CHECK(r3.body == root.small.substr(1, 1));
  checkParts(client.readResponse(), root.big, {{0, 4}, {60000, 60004}}, "application/octet-stream");
  const HttpResponse r5 = client.readResponse();
  CHECK(r5.status == 200);
  CHECK(sameBytes(r5.body, root.big));
  const HttpResponse r6 = client.readResponse();
  CHECK(r6.header("Content-Range") == contentRange(12345, 12345, kBigSize));
  CHECK(r6.body == root.big.substr(12345, 1));
}

TEST_CASE("range: the access log records 206 and 416 with the body bytes sent") {
  RangeRoot root;
  Client client = root.served.connect();
  CHECK(client.request(rangeHead("/big.bin", "bytes=100-199")).status == 206);
  const HttpResponse unsatisfiable = client.request(rangeHead("/big.bin", "bytes=999999-"));
  CHECK(unsatisfiable.status == 416);
  CHECK(root.served.server.waitForOut("\"GET /big.bin HTTP/1.1\" 206 100 ", 5s));
  CHECK(root.served.server.waitForOut(
      "\"GET /big.bin HTTP/1.1\" 416 " + std::to_string(unsatisfiable.body.size()) + " ", 5s));
}

}  // namespace
}  // namespace epserve::e2e
