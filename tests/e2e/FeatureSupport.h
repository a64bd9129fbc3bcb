// Shared pieces for the browser-feature end-to-end tests (ranges, compression, cache policy,
// fallback, autoindex): random fixtures, multipart/byteranges parsing, HTTP-date forms, tools.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "HttpResponse.h"

namespace epserve::e2e {

// `size` pseudo-random bytes from a fixed seed: incompressible like a real binary asset, and the
// same on every run so a failure can be reproduced.
std::string randomBytes(std::size_t size, std::uint64_t seed);

// One part of a multipart/byteranges body (RFC 9110 §14.6).
struct BytePart {
  std::string contentType;   // "" when the part had none
  std::string contentRange;  // the raw field value, e.g. "bytes 0-9/100"
  std::uint64_t first = 0;   // from contentRange
  std::uint64_t last = 0;
  std::uint64_t completeLength = 0;
  std::string bytes;
};

// The boundary parameter of a `multipart/byteranges; boundary=...` Content-Type; throws if the
// value is not that media type or has no boundary.
std::string boundaryOf(const std::string& contentType);

// Parses a whole multipart/byteranges body strictly: it must start with the dash-boundary, every
// part must carry a Content-Range whose length says exactly how many bytes follow, and the body
// must end with the close-delimiter and CRLF, nothing after. Throws std::runtime_error saying
// what is wrong otherwise.
std::vector<BytePart> parseByteranges(const HttpResponse& response);

// "bytes FIRST-LAST/LENGTH" into its numbers; throws if the value is not that.
void parseContentRange(const std::string& value, std::uint64_t& first, std::uint64_t& last,
                       std::uint64_t& completeLength);

// The three HTTP-date forms of RFC 9110 §5.6.7.
enum class DateForm { ImfFixdate, Rfc850, Asctime };
std::string httpDate(std::time_t t, DateForm form);
// An IMF-fixdate as a time_t; throws if it is not one.
std::time_t parseImfDate(const std::string& text);

// Sets a file's modification time (seconds, nanoseconds 0), so tests can name exact dates.
void setModificationTime(const std::filesystem::path& path, std::time_t mtime);

// Runs `argv` (argv[0] looked up in PATH when it has no slash) with stdin from /dev/null and waits
// at most `bound`; throws if it cannot be found or does not finish in time. Returns the exit code
// (minus the signal if one killed it); `err` receives its stderr.
int runTool(const std::vector<std::string>& argv, std::chrono::milliseconds bound,
            std::string* err = nullptr);
// Whether `name` is an executable in PATH.
bool haveTool(const std::string& name);

// The last response head in a `curl -D FILE` dump (status and fields), with `body` attached.
HttpResponse responseFromCurlDump(const std::string& dump, std::string body);

// Headers of `a` and `b` that differ, ignoring `Date` and the names in `ignore`; "" when every
// other field is present in both with the same values, in the same number.
std::string headerDifferences(const HttpResponse& a, const HttpResponse& b,
                              const std::vector<std::string>& ignore = {});

}  // namespace epserve::e2e
