// Reading the TOML --config file into flag values: see ConfigFile.h.
#include "server/ConfigFile.h"

// toml++ as a header-only library: the running binary needs no extra shared library.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <string_view>
#include <tuple>

namespace epserve::server {

namespace {

std::string position(const std::string& path, const toml::source_region& where) {
  return path + ":" + std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column);
}

struct Reader {
  const std::string& path;
  std::vector<OptionValue> values;

  [[noreturn]] void fail(const toml::node& node, const std::string& key, const std::string& why) {
    throw ConfigFileError(position(path, node.source()) + ": " + key + ": " + why);
  }

  void add(const std::string& key, const toml::node& node, std::string text) {
    values.push_back(OptionValue{key, std::move(text), position(path, node.source())});
  }

  // A scalar as the command line would spell it.
  std::string scalar(const toml::node& node, const OptionSpec& spec, const std::string& key) {
    if (const auto* s = node.as_string()) return s->get();
    if (const auto* i = node.as_integer()) return std::to_string(i->get());
    if (const auto* f = node.as_floating_point()) {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f->get());
      if (ec != std::errc()) fail(node, key, "a number out of range");
      return std::string(buf, end);
    }
    if (const auto* b = node.as_boolean()) {
      if (spec.onOff) return b->get() ? "on" : "off";
    }
    fail(node, key, spec.onOff ? "expected \"on\" or \"off\" (or true/false)"
                               : "expected a string or a number");
  }

  std::string field(const toml::table& t, const std::string& key, std::string_view name) {
    const toml::node* n = t.get(name);
    if (n == nullptr) fail(t, key, "missing '" + std::string(name) + "'");
    if (!n->is_string()) fail(*n, key + "." + std::string(name), "expected a string");
    return n->as_string()->get();
  }

  // One [[static]] or [[proxy]] table, as "PREFIX=DIR" or "PREFIX=URL,URL".
  std::string route(const toml::node& node, const std::string& key) {
    const toml::table* t = node.as_table();
    if (t == nullptr) fail(node, key, "expected a table ([[" + key + "]] with prefix = ...)");
    const bool proxy = key == "proxy";
    for (const auto& [name, value] : *t) {
      const std::string_view n = name.str();
      if (n != "prefix" && (proxy ? n != "url" && n != "urls" : n != "dir")) {
        fail(value, key + "." + std::string(n),
             proxy ? "unknown key (expected prefix, url or urls)" : "unknown key (expected prefix, dir)");
      }
    }
    std::string text = field(*t, key, "prefix") + "=";
    if (!proxy) return text + field(*t, key, "dir");
    const toml::node* one = t->get("url");
    const toml::node* many = t->get("urls");
    if ((one == nullptr) == (many == nullptr)) fail(*t, key, "give either url or urls");
    if (one != nullptr) return text + field(*t, key, "url");
    const toml::array* list = many->as_array();
    if (list == nullptr || list->empty()) fail(*many, key + ".urls", "expected an array of URL strings");
    bool first = true;
    for (const toml::node& u : *list) {
      if (!u.is_string()) fail(u, key + ".urls", "expected a string");
      text += (first ? "" : ",") + u.as_string()->get();
      first = false;
    }
    return text;
  }

  void read(const std::string& key, const toml::node& node, const OptionSpec& spec) {
    if (key == "static" || key == "proxy") {
      const toml::array* list = node.as_array();
      if (list == nullptr) fail(node, key, "expected an array of tables ([[" + key + "]])");
      for (const toml::node& item : *list) add(key, item, route(item, key));
      return;
    }
    if (spec.boolean) {
      if (!node.is_boolean()) fail(node, key, "expected true or false");
      add(key, node, node.as_boolean()->get() ? "true" : "false");
      return;
    }
    if (const toml::array* list = node.as_array()) {
      if (!spec.repeatable) fail(node, key, "expected one value, not an array");
      for (const toml::node& item : *list) add(key, item, scalar(item, spec, key));
      return;
    }
    add(key, node, scalar(node, spec, key));
  }
};

}  // namespace

std::vector<OptionValue> readConfigFile(const std::string& path,
                                        const std::vector<OptionSpec>& specs) {
  if (!std::ifstream(path)) {
    throw ConfigFileError(path + ": cannot read the --config file: " + std::strerror(errno));
  }
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const std::string what(e.description());
    throw ConfigFileError(position(path, e.source()) + ": " + what);
  }
  Reader reader{path, {}};
  std::vector<std::tuple<toml::source_position, std::string, const toml::node*>> entries;
  for (const auto& [name, node] : root) {
    entries.emplace_back(name.source().begin, std::string(name.str()), &node);
  }
  // toml++ keeps keys sorted; the file's order decides which of two routes with one prefix is
  // reported, as the command line's does.
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const auto& pa = std::get<0>(a);
    const auto& pb = std::get<0>(b);
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  for (const auto& [where, key, node] : entries) {
    const auto spec = std::find_if(specs.begin(), specs.end(),
                                   [&key = key](const OptionSpec& s) { return s.name == key; });
    if (spec == specs.end()) {
      throw ConfigFileError(path + ":" + std::to_string(where.line) + ":" +
                            std::to_string(where.column) + ": " + key + ": unknown key");
    }
    reader.read(key, *node, *spec);
  }
  return std::move(reader.values);
}

}  // namespace epserve::server
