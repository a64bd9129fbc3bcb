// Directory listings for --autoindex: see DirectoryListing.h.
#include "server/DirectoryListing.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

#include "fs/UrlPath.h"

namespace epserve::server {

namespace {

struct Entry {
  std::string name;
  bool isDir = false;
  long long size = -1;
  std::time_t mtime = 0;
};

}  // namespace

void appendHtmlEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
}

void renderDirectoryListing(reactor::Fd dir, std::string_view urlPath, std::string& html) {
  std::vector<Entry> entries;
  int fd = dir.release();
  if (DIR* d = ::fdopendir(fd)) {
    // Reading a directory is blocking I/O on the loop: bounded by kMaxListingEntries, and
    // listings are off unless asked for.
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;  // ".", ".." and dotfiles are never shown
      if (entries.size() >= kMaxListingEntries) break;
      struct stat st {};
      if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) continue;  // no links, fifos, devices
      Entry entry;
      entry.name = e->d_name;
      entry.isDir = S_ISDIR(st.st_mode);
      entry.size = entry.isDir ? -1 : static_cast<long long>(st.st_size);
      entry.mtime = st.st_mtim.tv_sec;
      entries.push_back(std::move(entry));
    }
    ::closedir(d);
  } else {
    ::close(fd);
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.isDir != b.isDir) return a.isDir;  // directories first
    return a.name < b.name;
  });

  html.clear();
  html += "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ";
  appendHtmlEscaped(html, urlPath);
  html += "</title>\n<style>body{font-family:system-ui,sans-serif;margin:2em}td{padding:0 1em}"
          "td.n{text-align:right}</style></head>\n<body><h1>Index of ";
  appendHtmlEscaped(html, urlPath);
  html += "</h1>\n<table>\n";
  if (urlPath != "/") html += "<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n";
  for (const Entry& e : entries) {
    // The link is the encoded name alone, a relative path: "%2F" can never become a separator
    // nor "//host" a protocol-relative URL. ':' is encoded too, so a name such as
    // "javascript:alert(1)" cannot read as a URL scheme (RFC 3986 §4.2).
    std::string link;
    for (char c : fs::encodeLocation(e.name, e.isDir).substr(1)) {
      if (c == ':') {
        link += "%3A";
      } else {
        link += c;
      }
    }
    html += "<tr><td><a href=\"";
    appendHtmlEscaped(html, link);
    html += "\">";
    appendHtmlEscaped(html, e.name);
    if (e.isDir) html += '/';
    html += "</a></td><td class=\"n\">";
    if (e.size >= 0) html += std::to_string(e.size);
    else html += "-";
    char date[32];
    std::tm tm{};
    ::gmtime_r(&e.mtime, &tm);
    std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M", &tm);
    html += "</td><td>";
    html += date;
    html += "</td></tr>\n";
  }
  html += "</table><hr><p>epserve</p></body></html>\n";
}

}  // namespace epserve::server
