// A throwaway document root for one end-to-end test, filled with known files and removed on exit.
// The root lives inside a private parent dir that also holds files outside the root (escape tests).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace epserve::e2e {

// Marker stored only outside the root: a response containing it means the root was escaped.
inline constexpr std::string_view kSecret = "E2E-SECRET-OUTSIDE-THE-ROOT";

std::filesystem::path makeTempDir(std::string_view prefix);
std::string readWholeFile(const std::filesystem::path& path);
void writeWholeFile(const std::filesystem::path& path, std::string_view bytes);
// Deterministic non-text bytes (every octet value, CR/LF and NUL included) for byte-exact checks.
std::string patternBytes(std::size_t size);

// Layout (relative to root()): index.html, noIndex.html (copied from the repo's www/ when present),
// blob.bin, style.css, image.png, data.json, notes.xyz, readme.txt, "with space.txt",
// docs/index.html, empty/a.txt (a directory without index), .hidden, .private/inner.txt,
// .well-known/probe.txt, link-out.txt -> ../secret.txt, linkdir -> ../outside/.
class TempRoot {
 public:
  TempRoot();
  ~TempRoot();
  TempRoot(const TempRoot&) = delete;
  TempRoot& operator=(const TempRoot&) = delete;

  const std::filesystem::path& root() const { return root_; }
  // The private parent of root(); tests may put scratch files (e.g. curl output) here.
  const std::filesystem::path& base() const { return base_; }
  void writeFile(std::string_view relative, std::string_view bytes) const;
  std::string readFile(std::string_view relative) const;

 private:
  std::filesystem::path base_;
  std::filesystem::path root_;
};

}  // namespace epserve::e2e
