// Content-Type by file extension: a fixed table, text types with "; charset=utf-8".
#pragma once

#include <string_view>

namespace epserve::http {

// Full Content-Type value for a file path (only the last extension counts, compared
// case-insensitively); "application/octet-stream" when the extension is unknown or absent.
std::string_view mimeTypeFor(std::string_view path);

}  // namespace epserve::http
