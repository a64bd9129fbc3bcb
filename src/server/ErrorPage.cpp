// Built-in error pages: see ErrorPage.h.
#include "server/ErrorPage.h"

#include <array>

#include "server/DirectoryListing.h"

namespace epserve::server {

namespace {

void render(http::Status s, std::string_view reason, std::string& out) {
  auto title = [&out, s] {
    const int c = http::code(s);
    out += static_cast<char>('0' + c / 100);
    out += static_cast<char>('0' + c / 10 % 10);
    out += static_cast<char>('0' + c % 10);
    out += ' ';
    out += http::reasonPhrase(s);
  };
  out += "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>";
  title();
  out += "</title></head>\n<body><h1>";
  title();
  out += "</h1>\n";
  // On a line of its own, so a person reading the raw response in telnet finds it at once.
  if (!reason.empty()) {
    out += "<p>";
    appendHtmlEscaped(out, reason);
    out += "</p>\n";
  }
  out += "<hr><p>epserve</p></body></html>\n";
}

}  // namespace

std::string_view defaultReason(http::Status status) {
  using http::Status;
  switch (status) {
    case Status::MovedPermanently:
      return "The resource is at the address in the Location header.";
    case Status::BadRequest:
      return "The request is not valid HTTP/1.1; write it as GET /index.html HTTP/1.1, then "
             "Host: localhost, then an empty line.";
    case Status::NotFound: return "Nothing is served at this path.";
    case Status::MethodNotAllowed:
      return "This resource answers GET, HEAD and OPTIONS only.";
    case Status::RequestTimeout:
      return "The request did not arrive in time; send the whole request head (ended by an "
             "empty line) promptly.";
    case Status::PreconditionFailed:
      return "A condition of the request (If-Match or If-Unmodified-Since) does not hold.";
    case Status::ContentTooLarge:
      return "The request body is larger than this server accepts.";
    case Status::UriTooLong:
      return "The request line is longer than this server accepts; shorten the target.";
    case Status::RangeNotSatisfiable:
      return "The requested range lies outside the file; see Content-Range for its length.";
    case Status::ExpectationFailed:
      return "Only Expect: 100-continue is supported; send the request without this Expect "
             "header.";
    case Status::HeaderFieldsTooLarge:
      return "The header fields are larger than this server accepts; send fewer or shorter "
             "ones.";
    case Status::InternalServerError:
      return "The server could not complete the request.";
    case Status::NotImplemented:
      return "The request uses a method or coding this server does not implement.";
    case Status::BadGateway:
      return "The application server behind this one could not be reached or gave an invalid "
             "response.";
    case Status::ServiceUnavailable:
      return "The server is busy; try again in a moment.";
    case Status::GatewayTimeout:
      return "The application server behind this one did not answer in time.";
    case Status::VersionNotSupported:
      return "This server speaks HTTP/1.1 and HTTP/1.0: end the request line with HTTP/1.1.";
    default:
      return {};
  }
}

std::string_view errorPage(http::Status status) {
  // Indexed by code - 300; thread-safe initialisation, immutable afterwards.
  static const std::array<std::string, 300> pages = [] {
    std::array<std::string, 300> all;
    for (int c = 300; c < 600; ++c) {
      auto s = static_cast<http::Status>(c);
      if (http::isRegistered(s)) render(s, defaultReason(s), all[static_cast<std::size_t>(c - 300)]);
    }
    return all;
  }();
  int c = http::code(status);
  if (c < 300 || c >= 600) return {};
  return pages[static_cast<std::size_t>(c - 300)];
}

std::string_view errorPage(http::Status status, std::string_view reason, std::string& scratch) {
  if (reason.empty()) return errorPage(status);
  scratch.clear();
  render(status, reason, scratch);
  return scratch;
}

}  // namespace epserve::server
