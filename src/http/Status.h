// HTTP status codes and their reason phrases (RFC 9110 §15, RFC 6585, RFC 8297/8470/7725).
// Named values for the registered codes; any three-digit code fits, for relaying an upstream's.
#pragma once

#include <cstdint>
#include <string_view>

namespace epserve::http {

// The named values are what epserve generates or an upstream commonly returns. Any other code
// in 100..999 is a valid value too (`statusFromCode(299)`): a proxy must carry it unchanged.
enum class Status : std::uint16_t {
  Continue = 100,
  SwitchingProtocols = 101,
  EarlyHints = 103,  // RFC 8297
  Ok = 200,
  Created = 201,
  Accepted = 202,
  NonAuthoritativeInformation = 203,
  NoContent = 204,
  ResetContent = 205,
  PartialContent = 206,
  MultipleChoices = 300,
  MovedPermanently = 301,
  Found = 302,
  SeeOther = 303,
  NotModified = 304,
  UseProxy = 305,
  TemporaryRedirect = 307,
  PermanentRedirect = 308,
  BadRequest = 400,
  Unauthorized = 401,
  PaymentRequired = 402,
  Forbidden = 403,
  NotFound = 404,
  MethodNotAllowed = 405,
  NotAcceptable = 406,
  ProxyAuthenticationRequired = 407,
  RequestTimeout = 408,
  Conflict = 409,
  Gone = 410,
  LengthRequired = 411,
  PreconditionFailed = 412,
  ContentTooLarge = 413,
  UriTooLong = 414,
  UnsupportedMediaType = 415,
  RangeNotSatisfiable = 416,
  ExpectationFailed = 417,
  MisdirectedRequest = 421,
  UnprocessableContent = 422,
  TooEarly = 425,  // RFC 8470
  UpgradeRequired = 426,
  PreconditionRequired = 428,  // RFC 6585
  TooManyRequests = 429,       // RFC 6585
  HeaderFieldsTooLarge = 431,  // RFC 6585
  UnavailableForLegalReasons = 451,  // RFC 7725
  InternalServerError = 500,
  NotImplemented = 501,
  BadGateway = 502,
  ServiceUnavailable = 503,
  GatewayTimeout = 504,
  VersionNotSupported = 505,
  NetworkAuthenticationRequired = 511,  // RFC 6585
};

constexpr int code(Status s) { return static_cast<int>(s); }

// The codes a status line can carry: three digits, 100..999 (RFC 9112 §4). RFC 9110 §15 calls
// only 100..599 valid, which is what ResponseParser accepts from an upstream.
constexpr bool isStatusCode(int c) { return c >= 100 && c <= 999; }

// Any code, named or not; `c` must satisfy isStatusCode.
constexpr Status statusFromCode(int c) { return static_cast<Status>(c); }

// True for the codes named in the enum, the ones reasonPhrase knows a phrase for.
bool isRegistered(Status s);

// "OK", "Not Found", ...; "Unknown" for a value not in the enum.
std::string_view reasonPhrase(Status s);

// The phrase a status line gets when no other is given: reasonPhrase for a registered code,
// else the name of its class ("Client Error" for 499, RFC 9110 §15), else "Unknown" (600..999,
// which have no class). Recipients ignore the text (RFC 9112 §4); it only has to be valid.
std::string_view defaultReasonPhrase(Status s);

// True for statuses whose responses never carry content (1xx, 204, 304: RFC 9110 §6.4.1),
// named or not. 205 is not among them: it has an empty body, still framed (RFC 9110 §15.3.6).
constexpr bool forbidsContent(Status s) {
  return code(s) < 200 || s == Status::NoContent || s == Status::NotModified;
}

}  // namespace epserve::http
