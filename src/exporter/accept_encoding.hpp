// Whether a request's Accept-Encoding accepts gzip (RFC 9110 §12.5.3): "gzip" or "x-gzip" with a
// q-value above 0, or "*" above 0 when gzip is not named. "gzip;q=0" is a refusal. Header-only and
// pure: the HTTP module (which links nothing of the library) and the unit tests share it.
//
//   accepts_gzip("deflate, gzip;q=0.5")  // true
//   accepts_gzip("gzip;q=0, *")          // false
#pragma once

#include <cctype>
#include <string_view>

namespace pressure::exporter {

namespace accept_detail {

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// The q-value of one element's parameters ("q=0.5"): 1 when absent; 0 for anything malformed, so
// a garbled preference never turns into a yes. q is at most three decimals, from 0 to 1.
inline bool positive_q(std::string_view params) {
  while (!params.empty()) {
    std::size_t semi = params.find(';');
    std::string_view param = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (param.size() < 2 || std::tolower(static_cast<unsigned char>(param[0])) != 'q' || param[1] != '=')
      continue;
    std::string_view value = trim(param.substr(2));
    if (value.empty() || (value[0] != '0' && value[0] != '1')) return false;
    bool nonzero = value[0] == '1';
    if (value.size() > 1) {
      if (value[1] != '.' || value.size() > 5) return false;
      for (char c : value.substr(2)) {
        if (c < '0' || c > '9') return false;
        nonzero = nonzero || c != '0';
      }
    }
    return nonzero;
  }
  return true;
}

}  // namespace accept_detail

inline bool accepts_gzip(std::string_view header) {
  using namespace accept_detail;
  int gzip = -1, any = -1;  // -1 not named, 0 refused, 1 accepted
  while (!header.empty()) {
    std::size_t comma = header.find(',');
    std::string_view element = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    std::size_t semi = element.find(';');
    std::string_view coding = trim(element.substr(0, semi));
    int accepted =
        positive_q(semi == std::string_view::npos ? std::string_view{} : element.substr(semi + 1)) ? 1 : 0;
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip"))
      gzip = gzip == 1 ? 1 : accepted;
    else if (coding == "*")
      any = accepted;
  }
  return gzip >= 0 ? gzip == 1 : any == 1;
}

}  // namespace pressure::exporter
