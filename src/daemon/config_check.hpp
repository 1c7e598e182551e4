// The configuration parser's shared parts: errors at a place in the file and the typed key
// readers. Internal to daemon/ (config.cpp reads the file and [daemon], rule_config.cpp a rule).
#pragma once

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include <pressure/error.hpp>

#include "policy/rules.hpp"

namespace pressure::daemon::config_detail {

class Checker {
 public:
  explicit Checker(std::string path) : m_path(std::move(path)) {}
  // "PATH:LINE" of a node.
  std::string at(const toml::node& node) const {
    return m_path + ":" + std::to_string(node.source().begin.line);
  }
  tl::unexpected<Error> error(const toml::node& node, const std::string& message) const {
    return fail(Errc::invalid_argument, at(node) + ": " + message, m_path);
  }
  const std::string& path() const { return m_path; }

 private:
  std::string m_path;
};

template <class T>
using R = Result<T>;

// Each names the key and prefixes `ctx` ("rule 'NAME': ", "[daemon]: ") to its error.
R<std::string> need_string(const Checker& ck, const toml::node& node, const std::string& key,
                           const std::string& ctx);
R<std::chrono::microseconds> need_duration(const Checker& ck, const toml::node& node, const std::string& key,
                                           const std::string& ctx);
// A string or a list of strings.
R<std::vector<std::string>> need_strings(const Checker& ck, const toml::node& node, const std::string& key,
                                         const std::string& ctx);
// An error naming the first key of `table` not in `known`, and every known key.
R<void> only_keys(const Checker& ck, const toml::table& table, std::initializer_list<std::string_view> known,
                  const std::string& ctx);

// One [[rule]] table, the `index`-th (from 0), validated key group by key group.
R<policy::Rule> parse_rule(const Checker& ck, const toml::table& t, const toml::node& node,
                           std::size_t index);

}  // namespace pressure::daemon::config_detail
