// The HTML page --autoindex shows for a directory without an index file: entries sorted by
// name, dotfiles hidden, names HTML-escaped and percent-encoded in links, sizes and dates.
#pragma once

#include <string>
#include <string_view>

#include "reactor/Fd.h"

namespace epserve::server {

// Lists the directory open as `dir` (consumed) into `html`. `urlPath` is the decoded request
// path of the directory ("/docs/"), shown as the title. At most kMaxEntries names are listed.
void renderDirectoryListing(reactor::Fd dir, std::string_view urlPath, std::string& html);

inline constexpr std::size_t kMaxListingEntries = 10000;

// HTML-escapes text for element content and attribute values.
void appendHtmlEscaped(std::string& out, std::string_view text);

}  // namespace epserve::server
