// End-to-end tests that requests never read outside the document root: dot-dot in every
// spelling, encoded separators, NUL, symlinks pointing out. Always 400 or 404, never the file.
#include <doctest/doctest.h>

#include "Client.h"
#include "ServedRoot.h"

namespace epserve::e2e {
namespace {

// Raw request line, so neither this client nor curl normalises the dot segments first.
HttpResponse fetchRaw(const ServedRoot& served, const std::string& target) {
  Client client = served.connect();
  return client.request(requestHead("GET", target));
}

TEST_CASE("paths: traversal to /etc/passwd never returns the file") {
  ServedRoot served;
  for (const std::string target :
       {"/../etc/passwd", "/../../../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd", "/%2f%2e%2e/%2f%2e%2e/%2f%2e%2e/etc/passwd",
        "/..%2f..%2f..%2f..%2fetc%2fpasswd", "//etc/passwd", "/docs/../../../../etc/passwd"}) {
    CAPTURE(target);
    const HttpResponse response = fetchRaw(served, target);
    CHECK((response.status == 400 || response.status == 404));
    CHECK(response.body.find("root:") == std::string::npos);
  }
}

TEST_CASE("paths: traversal to a sibling of the root never returns it") {
  ServedRoot served;
  // secret.txt sits right next to the root directory, one level up.
  for (const std::string target :
       {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2e/secret.txt", "/.%2e/secret.txt",
        "/%2f%2e%2e%2fsecret.txt", "/..%2fsecret.txt", "/docs/../../secret.txt",
        "/docs/%2e%2e/%2e%2e/secret.txt", "/empty/..%2f..%2fsecret.txt", "/../www/../secret.txt"}) {
    CAPTURE(target);
    const HttpResponse response = fetchRaw(served, target);
    CHECK((response.status == 400 || response.status == 404));
    CHECK(response.body.find(kSecret) == std::string::npos);
  }
}

TEST_CASE("paths: NUL and bad percent-escapes give 400") {
  ServedRoot served;
  for (const std::string target : {"/index.html%00", "/index.html%00.txt", "/index%zz.html",
                                   "/index%2.html", "/index.html%", "/%G0"}) {
    CAPTURE(target);
    const HttpResponse response = fetchRaw(served, target);
    CHECK(response.status == 400);
  }
}

TEST_CASE("paths: symlinks out of the root are 404") {
  ServedRoot served;
  for (const std::string target : {"/link-out.txt", "/linkdir/secret.txt", "/linkdir/"}) {
    CAPTURE(target);
    const HttpResponse response = fetchRaw(served, target);
    CHECK(response.status == 404);
    CHECK(response.body.find(kSecret) == std::string::npos);
  }
}

TEST_CASE("paths: dotfile is 404 in any spelling") {
  ServedRoot served;
  for (const std::string target : {"/.hidden", "/%2ehidden", "/docs/../.hidden",
                                   "/.private/inner.txt", "/%2eprivate/inner.txt"}) {
    CAPTURE(target);
    const HttpResponse response = fetchRaw(served, target);
    CHECK((response.status == 404 || response.status == 400));
    CHECK(response.body.find("dotfile") == std::string::npos);
    CHECK(response.body.find("inside a dot-dir") == std::string::npos);
  }
}

}  // namespace
}  // namespace epserve::e2e
