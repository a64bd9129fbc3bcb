// Accept-Encoding negotiation (RFC 9110 §12.5.3) for precompressed sidecar files: which of
// br, gzip and identity the client accepts, with what weight, and which variant to send.
#pragma once

#include <cstdint>
#include <string_view>

namespace epserve::http {

// The weight of an identity coding the client did not name (neither as "identity" nor through
// "*"): §12.5.3 makes it acceptable by default but gives it no weight. We give it the lowest
// positive one, so a client that names gzip or br at any weight gets that rather than the
// uncompressed file, while an explicit "identity;q=..." competes on its stated weight.
inline constexpr std::uint16_t kImplicitIdentityQ = 1;

// What one Accept-Encoding value allows. Weights are in thousandths (qvalue 0.5 -> 500); a
// coding is acceptable (its bool is true) exactly when its weight is above zero. The defaults
// are what an absent header means: identity only.
struct AcceptedCodings {
  bool br = false;
  bool gzip = false;
  bool identity = true;
  std::uint16_t qBr = 0;
  std::uint16_t qGzip = 0;
  std::uint16_t qIdentity = kImplicitIdentityQ;
};

// Parses Accept-Encoding: a comma list of codings, each with an optional weight
// `OWS ";" OWS "q=" qvalue` (qvalue 0..1 with at most three decimals, "q" case-insensitive).
// Codings compare case-insensitively and "x-gzip" means gzip (§8.4.1.3). "*" gives its weight
// to every coding not listed by name, identity included; identity is otherwise acceptable at
// kImplicitIdentityQ. A member with an invalid weight, another parameter or a bad token is
// ignored on its own; a coding listed more than once takes its highest weight, so the result
// does not depend on member order.
// An absent header (empty view, nullptr data) and an empty value both mean identity only. For
// an absent header this is stricter than §12.5.3 ("any coding"), on purpose: clients that send
// no Accept-Encoding (curl without --compressed, scripts) expect the bytes of the file.
AcceptedCodings parseAcceptEncoding(std::string_view header);

// Picks the variant to send given which sidecars exist: "br", "gzip", or "" for the identity
// file. The highest weight wins; on equal weights br beats gzip, and either beats identity (the
// client gets the same bytes after decoding, with fewer on the wire). Also "" when nothing is
// acceptable (e.g. "identity;q=0" alone): the caller may answer 406 by checking `identity`, or,
// as §12.5.3 permits and most servers do, send the identity file anyway.
std::string_view chooseCoding(const AcceptedCodings& accepted, bool haveBr, bool haveGzip);

}  // namespace epserve::http
