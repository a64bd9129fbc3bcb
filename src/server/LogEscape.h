// How client-controlled text goes into a log line so that no byte can break the line: the
// combined format's \xHH escapes (nginx's) and JSON string escapes that keep the output valid.
#pragma once

#include <string>
#include <string_view>

namespace epserve::server {

// For the combined format, inside double quotes: '"', '\\', control bytes and bytes >= 0x7f
// become \xHH; an empty value is written as "-".
void appendCombinedEscaped(std::string& out, std::string_view s);

// The contents of a JSON string (without the quotes): '"' and '\\' backslashed, control bytes
// as \n, \r, \t, \b, \f or \u00XX, DEL as \u007f, well-formed UTF-8 kept as it is, and every byte
// of a malformed sequence (overlong, surrogate, above U+10FFFF, truncated) as \u00XX, so the
// output is always valid UTF-8 and valid JSON.
void appendJsonEscaped(std::string& out, std::string_view s);

}  // namespace epserve::server
