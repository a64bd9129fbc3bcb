// ETag generation, entity-tag list matching and the RFC 9110 §13.2.2 precondition order.
// Everything works on views of the request buffer; nothing allocates.
#include "http/Conditional.h"

#include <optional>

#include "http/HttpDate.h"

namespace epserve::http {

namespace {

// Appends `v` in lowercase hex without leading zeros ("0" for zero).
std::size_t putHex(char* out, std::uint64_t v) {
  char tmp[16];
  std::size_t n = 0;
  do {
    tmp[n++] = "0123456789abcdef"[v & 0xF];
    v >>= 4;
  } while (v != 0);
  for (std::size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  return n;
}

// Longest tag: quotes + 16 hex (sec) + '.' + 8 hex (nsec < 1e9) + '-' + 16 hex (size).
static_assert(2 + 16 + 1 + 8 + 1 + 16 <= kMaxEtagLength);

enum class ListMatch { Malformed, NoMatch, Match, Star };

// etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3).
constexpr bool isEtagc(unsigned char c) { return c == 0x21 || (c >= 0x23 && c != 0x7F); }

constexpr bool isOws(char c) { return c == ' ' || c == '\t'; }

struct EntityTag {
  bool weak = false;
  std::string_view opaque;  // including the quotes
};

// Splits an entity-tag (our own, from makeEtag, or one from a list) into weakness and opaque-tag.
// The "W/" prefix is case-sensitive (%x57.2F).
std::optional<EntityTag> splitTag(std::string_view s) {
  EntityTag tag;
  if (s.size() >= 2 && s[0] == 'W' && s[1] == '/') {
    tag.weak = true;
    s.remove_prefix(2);
  }
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::nullopt;
  for (std::size_t i = 1; i + 1 < s.size(); ++i) {
    if (!isEtagc(static_cast<unsigned char>(s[i]))) return std::nullopt;
  }
  tag.opaque = s;
  return tag;
}

// Parses `"*" / #entity-tag` (RFC 9110 §13.1.1-2) completely before answering, so a list that
// is malformed anywhere matches nothing even if an earlier member would have. Empty list
// members are allowed and ignored (RFC 9110 §5.6.1.2).
ListMatch matchList(std::string_view value, std::string_view etag, bool strong) {
  if (value == "*") return ListMatch::Star;
  std::optional<EntityTag> ours = splitTag(etag);
  bool matched = false;
  std::size_t i = 0;
  const std::size_t n = value.size();
  while (i < n) {
    while (i < n && isOws(value[i])) ++i;
    if (i == n) break;
    if (value[i] == ',') {  // empty element
      ++i;
      continue;
    }
    // One entity-tag: optional W/, then a quoted string of etagc.
    std::size_t start = i;
    if (value[i] == 'W' && i + 1 < n && value[i + 1] == '/') i += 2;
    if (i == n || value[i] != '"') return ListMatch::Malformed;
    ++i;
    while (i < n && value[i] != '"') {
      if (!isEtagc(static_cast<unsigned char>(value[i]))) return ListMatch::Malformed;
      ++i;
    }
    if (i == n) return ListMatch::Malformed;  // unterminated
    ++i;
    std::optional<EntityTag> theirs = splitTag(value.substr(start, i - start));
    if (!theirs) return ListMatch::Malformed;
    if (ours && theirs->opaque == ours->opaque && (!strong || (!theirs->weak && !ours->weak))) {
      matched = true;
    }
    // After a tag: OWS, then a comma or the end.
    while (i < n && isOws(value[i])) ++i;
    if (i < n) {
      if (value[i] != ',') return ListMatch::Malformed;
      ++i;
    }
  }
  return matched ? ListMatch::Match : ListMatch::NoMatch;
}

// Evaluates a list-valued field that may arrive on several lines; the lines together form one
// list (RFC 9110 §5.3), so "*" is only valid as the sole member and a malformed line spoils all.
bool fieldMatches(const Request& req, std::string_view name, std::string_view etag, bool strong) {
  std::size_t lines = 0;
  bool star = false;
  bool matched = false;
  for (std::size_t i = 0; i < req.headerCount; ++i) {
    if (!equalsIgnoreCase(req.headers[i].name, name)) continue;
    ++lines;
    switch (matchList(req.headers[i].value, etag, strong)) {
      case ListMatch::Malformed: return false;
      case ListMatch::Star: star = true; break;
      case ListMatch::Match: matched = true; break;
      case ListMatch::NoMatch: break;
    }
  }
  if (star) return lines == 1;
  return matched;
}

// A date field is ignored unless it appears once and is a valid HTTP-date
// (RFC 9110 §13.1.3 and §13.1.4: a list of dates is not valid).
std::optional<std::time_t> singleDate(const Request& req, std::string_view name) {
  std::string_view first = req.find(name);
  if (first.data() == nullptr) return std::nullopt;
  std::size_t lines = 0;
  for (std::size_t i = 0; i < req.headerCount; ++i) {
    if (equalsIgnoreCase(req.headers[i].name, name)) ++lines;
  }
  if (lines != 1) return std::nullopt;
  return parseHttpDate(first);
}

}  // namespace

std::size_t makeEtag(std::uint64_t size, std::int64_t mtimeSec, std::int64_t mtimeNsec,
                     char (&out)[kMaxEtagLength]) {
  // Like nginx, derive the tag from mtime and size; the nanoseconds catch rewrites within the
  // same second. tv_nsec is always below 1e9, so it fits in 32 bits (8 hex digits).
  std::size_t n = 0;
  out[n++] = '"';
  n += putHex(out + n, static_cast<std::uint64_t>(mtimeSec));
  out[n++] = '.';
  n += putHex(out + n, static_cast<std::uint32_t>(mtimeNsec));
  out[n++] = '-';
  n += putHex(out + n, size);
  out[n++] = '"';
  return n;
}

bool ifNoneMatchMatches(std::string_view headerValue, std::string_view etag) {
  ListMatch m = matchList(headerValue, etag, /*strong=*/false);
  return m == ListMatch::Match || m == ListMatch::Star;
}

bool ifMatchMatches(std::string_view headerValue, std::string_view etag) {
  ListMatch m = matchList(headerValue, etag, /*strong=*/true);
  return m == ListMatch::Match || m == ListMatch::Star;
}

Status evaluatePreconditions(const Request& req, std::string_view etag, std::int64_t mtimeSec) {
  const bool safe = req.method == Method::Get || req.method == Method::Head;

  // Step 1: If-Match, else step 2: If-Unmodified-Since (only when If-Match is absent).
  if (req.find("If-Match").data() != nullptr) {
    if (!fieldMatches(req, "If-Match", etag, /*strong=*/true)) return Status::PreconditionFailed;
  } else if (auto date = singleDate(req, "If-Unmodified-Since")) {
    if (mtimeSec > static_cast<std::int64_t>(*date)) return Status::PreconditionFailed;
  }

  // Step 3: If-None-Match, else step 4: If-Modified-Since (GET/HEAD only, §13.1.3).
  if (req.find("If-None-Match").data() != nullptr) {
    if (fieldMatches(req, "If-None-Match", etag, /*strong=*/false)) {
      return safe ? Status::NotModified : Status::PreconditionFailed;
    }
  } else if (safe) {
    if (auto date = singleDate(req, "If-Modified-Since")) {
      if (mtimeSec <= static_cast<std::int64_t>(*date)) return Status::NotModified;
    }
  }
  return Status::Ok;
}

}  // namespace epserve::http
