#include "exporter/listen.hpp"

#include <arpa/inet.h>

#include <cstdint>

namespace pressure::exporter {

namespace {

tl::unexpected<Error> bad(std::string_view text, const std::string& why) {
  return fail(Errc::invalid_argument, "bad listen address '" + std::string(text) + "': " + why);
}

bool is_ipv4(const std::string& host) {
  in_addr address{};
  return ::inet_pton(AF_INET, host.c_str(), &address) == 1;
}

bool is_ipv6(const std::string& host) {
  in6_addr address{};
  return ::inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

// RFC 1123 host names: labels of letters, digits and '-', not starting or ending with '-'.
bool is_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t label = 0;
  char previous = '.';
  for (char c : host) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (c == '.') {
      if (label == 0 || previous == '-') return false;
      label = 0;
    } else if (alnum || c == '-') {
      if (c == '-' && label == 0) return false;
      if (++label > 63) return false;
    } else {
      return false;
    }
    previous = c;
  }
  return previous != '-' && previous != '.';
}

bool looks_numeric(std::string_view host) {
  for (char c : host)
    if (!((c >= '0' && c <= '9') || c == '.')) return false;
  return true;
}

}  // namespace

std::string ListenAddress::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Result<ListenAddress> parse_listen_address(std::string_view text) {
  if (text.empty()) return bad(text, "it is empty; expected HOST:PORT, [IPv6]:PORT or :PORT");
  ListenAddress address;
  std::string_view port_text;
  if (text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos) return bad(text, "'[' without a closing ']'");
    address.host = std::string(text.substr(1, close - 1));
    if (!is_ipv6(address.host)) return bad(text, "'" + address.host + "' in brackets is not an IPv6 address");
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return bad(text, "expected ':PORT' after ']'");
    port_text = rest.substr(1);
  } else {
    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return bad(text, "no port; expected HOST:PORT, [IPv6]:PORT or :PORT (e.g. 127.0.0.1:9101)");
    address.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (address.host.find(':') != std::string::npos)
      return bad(text, "an IPv6 address needs brackets, e.g. [::1]:9101");
    if (!address.host.empty() && !is_ipv4(address.host)) {
      if (looks_numeric(address.host)) return bad(text, "'" + address.host + "' is not an IPv4 address");
      if (!is_host_name(address.host))
        return bad(text, "'" + address.host + "' is not a host name or address");
    }
  }
  if (port_text.empty()) return bad(text, "no port after ':'");
  std::uint32_t port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return bad(text, "port '" + std::string(port_text) + "' is not a number");
    port = port * 10 + static_cast<std::uint32_t>(c - '0');
    if (port > 65535) return bad(text, "port " + std::string(port_text) + " is out of range 0-65535");
  }
  address.port = static_cast<int>(port);
  return address;
}

}  // namespace pressure::exporter
