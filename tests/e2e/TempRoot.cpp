// Builds and removes the per-test document root described in TempRoot.h.
// Fixture bytes are generated here so every assertion can compare against the file on disk.
#include "TempRoot.h"

#include <stdlib.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace epserve::e2e {

namespace fs = std::filesystem;

fs::path makeTempDir(std::string_view prefix) {
  std::string pattern = "/tmp/" + std::string(prefix) + "XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  return pattern;
}

std::string readWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void writeWholeFile(const fs::path& path, std::string_view bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string patternBytes(std::size_t size) {
  std::string bytes(size, '\0');
  // A multiplicative walk rather than a counter, so a shifted or repeated block is detected.
  std::uint32_t state = 2166136261u;
  for (std::size_t i = 0; i < size; ++i) {
    state = state * 16777619u + static_cast<std::uint32_t>(i);
    bytes[i] = static_cast<char>(state >> 24);
  }
  return bytes;
}

namespace {

std::string fromRepoOr(std::string_view name, std::string_view fallback) {
  const fs::path source = fs::path(EPSERVE_SOURCE_DIR) / "www" / name;
  std::error_code ec;
  if (fs::is_regular_file(source, ec)) return readWholeFile(source);
  return std::string(fallback);
}

}  // namespace

TempRoot::TempRoot() : base_(makeTempDir("epserve-e2e-root-")), root_(base_ / "www") {
  try {
    fs::create_directory(root_);
    writeFile("index.html", fromRepoOr("index.html",
                                       "<!DOCTYPE html>\n<html><head><title>epserve e2e</title>"
                                       "</head>\n<body><h1>It works</h1></body></html>\n"));
    writeFile("noIndex.html", fromRepoOr("noIndex.html",
                                         "<!DOCTYPE html>\n<html><head><title>Not found</title>"
                                         "</head>\n<body><h1>404 Not Found</h1></body></html>\n"));
    writeFile("blob.bin", patternBytes(70000));
    writeFile("style.css", "body { color: #333; }\n");
    writeFile("image.png", std::string("\x89PNG\r\n\x1a\n", 8) + patternBytes(300));
    writeFile("data.json", "{\"ok\": true}\n");
    writeFile("notes.xyz", "no known type\n");
    writeFile("readme.txt", "plain text\n");
    writeFile("with space.txt", "a name with a space\n");
    writeFile("docs/index.html", "<html><body>docs index</body></html>\n");
    writeFile("empty/a.txt", "a directory without an index\n");
    writeFile(".hidden", "dotfile\n");
    writeFile(".private/inner.txt", "inside a dot-dir\n");
    writeFile(".well-known/probe.txt", "well-known ok\n");
    writeWholeFile(base_ / "secret.txt", kSecret);
    writeWholeFile(base_ / "outside" / "secret.txt", kSecret);
    fs::create_symlink(base_ / "secret.txt", root_ / "link-out.txt");
    fs::create_directory_symlink(base_ / "outside", root_ / "linkdir");
  } catch (...) {
    std::error_code ec;
    fs::remove_all(base_, ec);
    throw;
  }
}

TempRoot::~TempRoot() {
  std::error_code ec;
  fs::remove_all(base_, ec);
}

void TempRoot::writeFile(std::string_view relative, std::string_view bytes) const {
  writeWholeFile(root_ / relative, bytes);
}

std::string TempRoot::readFile(std::string_view relative) const {
  return readWholeFile(root_ / relative);
}

}  // namespace epserve::e2e
