// CGI response heads as HTTP/1.1 heads: see CgiHead.h.
#include "http/CgiHead.h"

#include "http/Syntax.h"

namespace epserve::http {

namespace {

constexpr std::string_view kHttp = "HTTP/";

bool isDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

CgiHead cgiToHttpHead(std::string_view input, std::string& out, std::size_t& headLength) {
  if (input.substr(0, kHttp.size()) == kHttp.substr(0, std::min(input.size(), kHttp.size()))) {
    return input.size() < kHttp.size() ? CgiHead::Incomplete : CgiHead::NotCgi;
  }
  const std::size_t end = input.find("\r\n\r\n");
  if (end == std::string_view::npos) return CgiHead::Incomplete;
  headLength = end + 4;

  std::string_view status, location;
  std::string fields;
  for (std::string_view rest = input.substr(0, end + 2); !rest.empty();) {
    const std::size_t eol = rest.find("\r\n");
    const std::string_view line = rest.substr(0, eol + 2);
    rest.remove_prefix(line.size());
    const std::size_t colon = line.find(':');
    const std::string_view name = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view()
                                                             : trimOws(line.substr(colon + 1, line.size() - colon - 3));
    if (colon != std::string_view::npos && equalsIgnoreCase(name, "Status")) {
      if (!status.empty()) return CgiHead::Invalid;
      if (value.size() < 3 || !isDigit(value[0]) || !isDigit(value[1]) || !isDigit(value[2]) ||
          (value.size() > 3 && value[3] != ' ')) {
        return CgiHead::Invalid;
      }
      status = value;
      continue;
    }
    if (colon != std::string_view::npos && equalsIgnoreCase(name, "Location")) location = value;
    fields.append(line);  // the parser judges it: a bad line stays bad
  }
  out.assign("HTTP/1.1 ");
  if (!status.empty()) {
    out.append(status);
    if (status.size() == 3) out.push_back(' ');
  } else {
    out.append(location.empty() ? "200 OK" : "302 Found");
  }
  out.append("\r\n");
  out.append(fields);
  out.append("\r\n");
  return CgiHead::Converted;
}

}  // namespace epserve::http
