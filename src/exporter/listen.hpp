// Where `pressure serve` listens: "HOST:PORT", "[IPv6]:PORT" or ":PORT" (all interfaces).
//
//   Result<ListenAddress> a = parse_listen_address("127.0.0.1:9101");
//   a->host == "127.0.0.1", a->port == 9101, a->all_interfaces() == false
#pragma once

#include <string>
#include <string_view>

#include <pressure/error.hpp>

namespace pressure::exporter {

inline constexpr std::string_view k_default_listen = "127.0.0.1:9101";

struct ListenAddress {
  std::string host;  // an IPv4 or IPv6 literal (without brackets) or a host name; empty: every interface
  int port = 0;      // 0: any free port (the server reports the one it got)
  bool all_interfaces() const { return host.empty(); }
  // "127.0.0.1:9101", "[::1]:9101", ":9101"; parse_listen_address(to_string()) gives it back.
  std::string to_string() const;
  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

// Parses outside input (a command-line flag, a config value). Errc::invalid_argument with a
// sentence naming the value and what is wrong with it; never throws.
Result<ListenAddress> parse_listen_address(std::string_view text);

}  // namespace pressure::exporter
