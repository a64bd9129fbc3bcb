// Built-in error pages: see ErrorPage.h.
#include "server/ErrorPage.h"

#include <array>
#include <string>

namespace epserve::server {

namespace {

std::string render(http::Status s) {
  std::string title = std::to_string(http::code(s)) + " " + std::string(http::reasonPhrase(s));
  return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + title +
         "</title></head>\n<body><h1>" + title + "</h1><hr><p>epserve</p></body></html>\n";
}

}  // namespace

std::string_view errorPage(http::Status status) {
  // Indexed by code - 300; thread-safe initialisation, immutable afterwards.
  static const std::array<std::string, 300> pages = [] {
    std::array<std::string, 300> all;
    for (int c = 300; c < 600; ++c) {
      auto s = static_cast<http::Status>(c);
      if (http::isRegistered(s)) all[static_cast<std::size_t>(c - 300)] = render(s);
    }
    return all;
  }();
  int c = http::code(status);
  if (c < 300 || c >= 600) return {};
  return pages[static_cast<std::size_t>(c - 300)];
}

}  // namespace epserve::server
