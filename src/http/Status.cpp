// Reason phrases for the status codes in Status.h, as the registries spell them.
#include "http/Status.h"

namespace epserve::http {

namespace {

// Empty for a code the enum does not name.
std::string_view registeredPhrase(Status s) {
  switch (s) {
    case Status::Continue: return "Continue";
    case Status::SwitchingProtocols: return "Switching Protocols";
    case Status::EarlyHints: return "Early Hints";
    case Status::Ok: return "OK";
    case Status::Created: return "Created";
    case Status::Accepted: return "Accepted";
    case Status::NonAuthoritativeInformation: return "Non-Authoritative Information";
    case Status::NoContent: return "No Content";
    case Status::ResetContent: return "Reset Content";
    case Status::PartialContent: return "Partial Content";
    case Status::MultipleChoices: return "Multiple Choices";
    case Status::MovedPermanently: return "Moved Permanently";
    case Status::Found: return "Found";
    case Status::SeeOther: return "See Other";
    case Status::NotModified: return "Not Modified";
    case Status::UseProxy: return "Use Proxy";
    case Status::TemporaryRedirect: return "Temporary Redirect";
    case Status::PermanentRedirect: return "Permanent Redirect";
    case Status::BadRequest: return "Bad Request";
    case Status::Unauthorized: return "Unauthorized";
    case Status::PaymentRequired: return "Payment Required";
    case Status::Forbidden: return "Forbidden";
    case Status::NotFound: return "Not Found";
    case Status::MethodNotAllowed: return "Method Not Allowed";
    case Status::NotAcceptable: return "Not Acceptable";
    case Status::ProxyAuthenticationRequired: return "Proxy Authentication Required";
    case Status::RequestTimeout: return "Request Timeout";
    case Status::Conflict: return "Conflict";
    case Status::Gone: return "Gone";
    case Status::LengthRequired: return "Length Required";
    case Status::PreconditionFailed: return "Precondition Failed";
    case Status::ContentTooLarge: return "Content Too Large";
    case Status::UriTooLong: return "URI Too Long";
    case Status::UnsupportedMediaType: return "Unsupported Media Type";
    case Status::RangeNotSatisfiable: return "Range Not Satisfiable";
    case Status::ExpectationFailed: return "Expectation Failed";
    case Status::MisdirectedRequest: return "Misdirected Request";
    case Status::UnprocessableContent: return "Unprocessable Content";
    case Status::TooEarly: return "Too Early";
    case Status::UpgradeRequired: return "Upgrade Required";
    case Status::PreconditionRequired: return "Precondition Required";
    case Status::TooManyRequests: return "Too Many Requests";
    case Status::HeaderFieldsTooLarge: return "Request Header Fields Too Large";
    case Status::UnavailableForLegalReasons: return "Unavailable For Legal Reasons";
    case Status::InternalServerError: return "Internal Server Error";
    case Status::NotImplemented: return "Not Implemented";
    case Status::BadGateway: return "Bad Gateway";
    case Status::ServiceUnavailable: return "Service Unavailable";
    case Status::GatewayTimeout: return "Gateway Timeout";
    case Status::VersionNotSupported: return "HTTP Version Not Supported";
    case Status::NetworkAuthenticationRequired: return "Network Authentication Required";
  }
  return {};
}

}  // namespace

bool isRegistered(Status s) { return !registeredPhrase(s).empty(); }

std::string_view reasonPhrase(Status s) {
  const std::string_view phrase = registeredPhrase(s);
  return phrase.empty() ? "Unknown" : phrase;
}

std::string_view defaultReasonPhrase(Status s) {
  const std::string_view phrase = registeredPhrase(s);
  if (!phrase.empty()) return phrase;
  switch (code(s) / 100) {
    case 1: return "Informational";
    case 2: return "Successful";
    case 3: return "Redirection";
    case 4: return "Client Error";
    case 5: return "Server Error";
    default: return "Unknown";
  }
}

}  // namespace epserve::http
