// Upgrade request and 101 checks: see Upgrade.h.
#include "http/Upgrade.h"

#include "http/Syntax.h"

namespace epserve::http {

namespace {

// protocol = protocol-name ["/" protocol-version], both tokens (RFC 9110 §7.8).
bool isProtocol(std::string_view p) {
  const std::size_t slash = p.find('/');
  if (slash == std::string_view::npos) return isToken(p);
  return isToken(p.substr(0, slash)) && isToken(p.substr(slash + 1));
}

bool listHas(std::string_view list, std::string_view element) {
  bool found = false;
  forEachListElement(list, [&](std::string_view e) {
    found = equalsIgnoreCase(e, element);
    return !found;
  });
  return found;
}

// Whether `list` holds a protocol and nothing that is not one (empty elements are allowed in
// any list, §5.6.1).
bool protocolList(std::string_view list) {
  bool any = false;
  bool bad = false;
  forEachListElement(list, [&](std::string_view e) {
    if (e.empty()) return true;
    if (!isProtocol(e)) {
      bad = true;
      return false;
    }
    any = true;
    return true;
  });
  return any && !bad;
}

}  // namespace

bool requestsUpgrade(const Request& r) {
  if (r.versionMinor < 1) return false;
  bool upgrade = false;
  bool named = false;
  for (std::size_t i = 0; i < r.headerCount; ++i) {
    const Header& h = r.headers[i];
    if (equalsIgnoreCase(h.name, "Upgrade")) {
      if (!protocolList(h.value)) return false;
      upgrade = true;
    } else if (equalsIgnoreCase(h.name, "Connection")) {
      named = named || listHas(h.value, "upgrade");
    }
  }
  return upgrade && named;
}

bool upgradeOffered(std::string_view offered, std::string_view chosen) {
  if (!protocolList(chosen)) return false;
  bool all = true;
  forEachListElement(chosen, [&](std::string_view e) {
    if (!e.empty()) all = listHas(offered, e);
    return all;
  });
  return all;
}

}  // namespace epserve::http
