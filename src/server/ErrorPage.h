// Small built-in HTML bodies for error and redirect responses ("<h1>400 Bad Request</h1>").
// Built once; the views stay valid for the life of the program.
#pragma once

#include <string_view>

#include "http/Status.h"

namespace epserve::server {

std::string_view errorPage(http::Status status);

inline constexpr std::string_view kHtmlType = "text/html; charset=utf-8";

}  // namespace epserve::server
