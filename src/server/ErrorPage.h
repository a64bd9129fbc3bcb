// Small built-in HTML bodies for error and redirect responses: the status as a title and one
// sentence saying what was wrong ("<h1>400 Bad Request</h1><p>An HTTP/1.1 request needs ...").
#pragma once

#include <string>
#include <string_view>

#include "http/Status.h"

namespace epserve::server {

// The page for `status` with its default sentence (if it has one): built once, the view stays
// valid for the life of the program.
std::string_view errorPage(http::Status status);

// The page for `status` saying `reason` (a fixed sentence, HTML-escaped here), rendered into
// `scratch`, whose capacity is reused; without a reason, errorPage(status).
std::string_view errorPage(http::Status status, std::string_view reason, std::string& scratch);

// The sentence a page for `status` says when its cause gave none ("" for statuses without).
std::string_view defaultReason(http::Status status);

inline constexpr std::string_view kHtmlType = "text/html; charset=utf-8";

}  // namespace epserve::server
