// Accept-Encoding parsing and precompressed-variant selection. One pass over the header value
// with views only; malformed members are dropped individually rather than spoiling the list.
#include "http/AcceptEncoding.h"

#include <algorithm>
#include <optional>

#include "http/Request.h"
#include "http/Syntax.h"

namespace epserve::http {

namespace {

constexpr int kUnlisted = -1;
constexpr std::uint16_t kQOne = 1000;

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 9110 §12.4.2), the whole
// of `s`; in thousandths.
std::optional<std::uint16_t> parseQvalue(std::string_view s) {
  if (s.empty() || (s[0] != '0' && s[0] != '1')) return std::nullopt;
  const bool one = s[0] == '1';
  std::uint16_t q = one ? kQOne : 0;
  if (s.size() == 1) return q;
  if (s[1] != '.' || s.size() > 5) return std::nullopt;
  std::uint16_t scale = 100;
  for (std::size_t i = 2; i < s.size(); ++i, scale /= 10) {
    if (!isDigitChar(static_cast<unsigned char>(s[i])) || (one && s[i] != '0')) return std::nullopt;
    q = static_cast<std::uint16_t>(q + (s[i] - '0') * scale);
  }
  return q;
}

// Weights as parsed: kUnlisted until a coding is named.
struct Listed {
  int br = kUnlisted;
  int gzip = kUnlisted;
  int identity = kUnlisted;
  int star = kUnlisted;
};

// One list member: `codings [ OWS ";" OWS "q=" qvalue ]`, already OWS-trimmed.
void addMember(std::string_view m, Listed& listed) {
  std::size_t i = 0;
  while (i < m.size() && has(static_cast<unsigned char>(m[i]), kTchar)) ++i;
  const std::string_view coding = m.substr(0, i);
  if (coding.empty()) return;
  int q = kQOne;
  if (i < m.size()) {
    while (i < m.size() && isOws(m[i])) ++i;
    if (i == m.size() || m[i] != ';') return;
    ++i;
    while (i < m.size() && isOws(m[i])) ++i;
    if (m.size() - i < 2 || (m[i] != 'q' && m[i] != 'Q') || m[i + 1] != '=') return;
    std::optional<std::uint16_t> weight = parseQvalue(m.substr(i + 2));
    if (!weight) return;
    q = *weight;
  }
  int* slot = nullptr;
  if (equalsIgnoreCase(coding, "br")) {
    slot = &listed.br;
  } else if (equalsIgnoreCase(coding, "gzip") || equalsIgnoreCase(coding, "x-gzip")) {
    slot = &listed.gzip;
  } else if (equalsIgnoreCase(coding, "identity")) {
    slot = &listed.identity;
  } else if (coding == "*") {
    slot = &listed.star;
  } else {
    return;  // a coding we have no variant for
  }
  *slot = std::max(*slot, q);
}

// A listed coding's weight, else the weight of "*", else `fallback`.
std::uint16_t resolve(int listed, int star, std::uint16_t fallback) {
  if (listed != kUnlisted) return static_cast<std::uint16_t>(listed);
  if (star != kUnlisted) return static_cast<std::uint16_t>(star);
  return fallback;
}

}  // namespace

AcceptedCodings parseAcceptEncoding(std::string_view header) {
  Listed listed;
  // Split at commas outside quoted strings: the grammar has none, but a malformed member with
  // a quoted parameter must not have its quoted commas start new members.
  std::size_t start = 0;
  bool quoted = false;
  for (std::size_t i = 0; i <= header.size(); ++i) {
    if (i < header.size()) {
      const char c = header[i];
      if (quoted) {
        if (c == '\\' && i + 1 < header.size()) {
          ++i;  // quoted-pair: skip the escaped octet
        } else if (c == '"') {
          quoted = false;
        }
        continue;
      }
      if (c == '"') quoted = true;
      if (c != ',') continue;
    }
    std::string_view member = trimOws(header.substr(start, i - start));
    if (!member.empty()) addMember(member, listed);
    start = i + 1;
  }

  AcceptedCodings out;
  out.qBr = resolve(listed.br, listed.star, 0);
  out.qGzip = resolve(listed.gzip, listed.star, 0);
  out.qIdentity = resolve(listed.identity, listed.star, kImplicitIdentityQ);
  out.br = out.qBr > 0;
  out.gzip = out.qGzip > 0;
  out.identity = out.qIdentity > 0;
  return out;
}

std::string_view chooseCoding(const AcceptedCodings& accepted, bool haveBr, bool haveGzip) {
  std::string_view pick = "";
  std::uint16_t best = accepted.identity ? accepted.qIdentity : 0;
  // ">=" lets the later, preferred candidate win ties: gzip over identity, br over both.
  if (haveGzip && accepted.gzip && accepted.qGzip >= best) {
    pick = "gzip";
    best = accepted.qGzip;
  }
  if (haveBr && accepted.br && accepted.qBr >= best) pick = "br";
  return pick;
}

}  // namespace epserve::http
