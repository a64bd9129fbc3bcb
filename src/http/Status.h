// HTTP status codes epserve can send, and their reason phrases (RFC 9110 §15).
// Every error path in the server ends in one of these values.
#pragma once

#include <cstdint>
#include <string_view>

namespace epserve::http {

enum class Status : std::uint16_t {
  Continue = 100,
  Ok = 200,
  NoContent = 204,
  PartialContent = 206,
  MovedPermanently = 301,
  NotModified = 304,
  BadRequest = 400,
  Forbidden = 403,
  NotFound = 404,
  MethodNotAllowed = 405,
  RequestTimeout = 408,
  PreconditionFailed = 412,
  ContentTooLarge = 413,
  UriTooLong = 414,
  RangeNotSatisfiable = 416,
  ExpectationFailed = 417,
  HeaderFieldsTooLarge = 431,
  InternalServerError = 500,
  NotImplemented = 501,
  ServiceUnavailable = 503,
  VersionNotSupported = 505,
};

constexpr int code(Status s) { return static_cast<int>(s); }

// "OK", "Not Found", ...; "Unknown" for a value not in the enum.
std::string_view reasonPhrase(Status s);

// True for statuses whose responses never carry content (1xx, 204, 304: RFC 9110 §6.4.1).
constexpr bool forbidsContent(Status s) {
  return code(s) < 200 || s == Status::NoContent || s == Status::NotModified;
}

}  // namespace epserve::http
