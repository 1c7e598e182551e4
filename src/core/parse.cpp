#include <pressure/parse.hpp>

#include "core/number.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

namespace pressure {
namespace {

constexpr std::uint32_t k_max_hundredths = 100 * 100;
constexpr std::array<std::string_view, 4> k_keys{"avg10", "avg60", "avg300", "total"};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Splits off the next whitespace-separated token of `rest`.
std::string_view next_token(std::string_view& rest) {
  std::size_t begin = 0;
  while (begin < rest.size() && is_space(rest[begin])) ++begin;
  std::size_t end = begin;
  while (end < rest.size() && !is_space(rest[end])) ++end;
  std::string_view token = rest.substr(begin, end - begin);
  rest.remove_prefix(end);
  return token;
}

std::string_view next_line(std::string_view& text) {
  std::size_t nl = text.find('\n');
  std::string_view line = text.substr(0, nl);
  text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  return line;
}

bool parse_u64(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && ptr == s.data() + s.size();
}

tl::unexpected<Error> malformed(std::string_view source, std::size_t line_no, std::string what) {
  std::string message(source);
  if (line_no > 0) message += " line " + std::to_string(line_no);
  message += ": " + what;
  return fail(Errc::malformed, std::move(message), std::string(source));
}

std::string quoted(std::string_view s) {
  constexpr std::size_t k_max = 40;
  std::string out = "'";
  for (char c : s.substr(0, k_max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > k_max) out += "...";
  return out + "'";
}

// The exact text psi_show() prints: "some avg10=D.DD avg60=D.DD avg300=D.DD total=N\n". Walked
// with a pointer, about five times faster than the general parser; any other shape (extra
// keys, other spacing, damage) is left to the general parser, which also words the errors.
class KernelFormat {
 public:
  explicit KernelFormat(std::string_view text) : m_p(text.data()), m_end(text.data() + text.size()) {}

  bool parse(Pressure& out) {
    if (m_p == m_end) return false;
    while (m_p < m_end)
      if (!line(out)) return false;
    return true;
  }

 private:
  bool literal(std::string_view text) {
    if (static_cast<std::size_t>(m_end - m_p) < text.size() ||
        text.compare(0, text.size(), m_p, text.size()) != 0)
      return false;
    m_p += text.size();
    return true;
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }

  bool average(Percent& out) {
    std::uint32_t whole = 0;
    int digits = 0;
    for (; m_p < m_end && digit(*m_p) && digits < 3; ++m_p, ++digits)
      whole = whole * 10 + static_cast<std::uint32_t>(*m_p - '0');
    if (digits == 0 || m_end - m_p < 3 || m_p[0] != '.' || !digit(m_p[1]) || !digit(m_p[2])) return false;
    std::uint32_t hundredths = whole * 100 + static_cast<std::uint32_t>((m_p[1] - '0') * 10 + (m_p[2] - '0'));
    if (hundredths > k_max_hundredths) return false;
    m_p += 3;
    out = Percent::from_hundredths(hundredths);
    return true;
  }

  bool total(std::uint64_t& out) {
    auto [ptr, ec] = std::from_chars(m_p, m_end, out);
    if (ec != std::errc{} || ptr == m_p) return false;
    m_p = ptr;
    return true;
  }

  bool line(Pressure& out) {
    std::optional<Stall>* slot = literal("some ") ? &out.some : literal("full ") ? &out.full : nullptr;
    if (slot == nullptr || slot->has_value()) return false;
    Stall stall;
    if (!(literal("avg10=") && average(stall.avg10) && literal(" avg60=") && average(stall.avg60) &&
          literal(" avg300=") && average(stall.avg300) && literal(" total=") && total(stall.total_us)))
      return false;
    if (m_p < m_end && *m_p++ != '\n') return false;
    *slot = stall;
    return true;
  }

  const char* m_p;
  const char* m_end;
};

Result<Pressure> parse_general(std::string_view text, std::string_view source);

}  // namespace

Result<Pressure> parse_pressure(std::string_view text, std::string_view source) {
  Pressure fast;
  if (KernelFormat(text).parse(fast)) return fast;
  return parse_general(text, source);
}

namespace {

Result<Pressure> parse_general(std::string_view text, std::string_view source) {
  Pressure result;
  std::size_t line_no = 0;
  while (!text.empty()) {
    std::string_view rest = next_line(text);
    ++line_no;
    std::string_view kind = next_token(rest);
    std::optional<Stall>* slot = kind == "some" ? &result.some : kind == "full" ? &result.full : nullptr;
    if (slot == nullptr) continue;  // blank or a line a newer kernel added
    if (slot->has_value()) return malformed(source, line_no, "a second '" + std::string(kind) + "' line");

    Stall stall;
    constexpr unsigned k_all = 0xf;
    unsigned seen = 0;
    for (std::string_view token = next_token(rest); !token.empty(); token = next_token(rest)) {
      std::size_t eq = token.find('=');
      if (eq == std::string_view::npos)
        return malformed(source, line_no, "expected key=value, found " + quoted(token));
      std::string_view key = token.substr(0, eq);
      std::string_view value = token.substr(eq + 1);
      std::size_t index = 0;
      while (index < k_keys.size() && k_keys[index] != key) ++index;
      unsigned bit = index < k_keys.size() ? 1U << index : 0;
      std::array<Percent*, 3> avgs{&stall.avg10, &stall.avg60, &stall.avg300};
      Percent* avg = index < avgs.size() ? avgs[index] : nullptr;
      if (bit == 0) continue;  // a key a newer kernel added
      if (seen & bit) return malformed(source, line_no, std::string(key) + " appears twice");
      seen |= bit;
      if (avg != nullptr) {
        std::uint32_t hundredths = 0;
        if (!core::parse_hundredths(value, hundredths))
          return malformed(source, line_no,
                           std::string(key) + " is not a percentage with two decimals: " + quoted(value));
        if (hundredths > k_max_hundredths)
          return malformed(source, line_no, std::string(key) + " is over 100.00: " + quoted(value));
        *avg = Percent::from_hundredths(hundredths);
      } else if (!parse_u64(value, stall.total_us)) {
        return malformed(source, line_no, "total is not an unsigned 64-bit integer: " + quoted(value));
      }
    }
    for (unsigned i = 0; seen != k_all && i < k_keys.size(); ++i)
      if (!(seen & (1U << i)))
        return malformed(source, line_no,
                         "'" + std::string(kind) + "' line has no " + std::string(k_keys[i]) + "=");
    *slot = stall;
  }
  if (!result.some && !result.full) return malformed(source, 0, "no 'some' or 'full' line");
  return result;
}

}  // namespace

namespace {

// Mount points in mountinfo escape space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      std::string_view digits = s.substr(i + 1, 3);
      bool octal = digits.size() == 3;
      for (char c : digits) octal = octal && c >= '0' && c <= '7';
      if (octal) {
        out += static_cast<char>(((digits[0] - '0') << 6) | ((digits[1] - '0') << 3) | (digits[2] - '0'));
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

}  // namespace

namespace {

struct Mount {
  std::string_view point;  // still escaped
  std::string_view type;
  std::string_view super_options;
};

// The first mount in mountinfo text that `wanted` accepts; nullopt if none; an Error for a line
// that is not mountinfo.
template <class Wanted>
Result<std::optional<std::string>> find_mount(std::string_view mountinfo, std::string_view source,
                                              Wanted wanted) {
  std::size_t line_no = 0;
  while (!mountinfo.empty()) {
    std::string_view rest = next_line(mountinfo);
    ++line_no;
    std::string_view first = rest;
    if (next_token(first).empty()) continue;
    std::array<std::string_view, 5> fields;
    for (auto& field : fields) field = next_token(rest);
    if (fields[4].empty()) return malformed(source, line_no, "fewer than 5 fields");
    // Optional fields run until a lone "-"; the file system type, source and options follow.
    std::string_view token = next_token(rest);
    while (!token.empty() && token != "-") token = next_token(rest);
    if (token.empty()) return malformed(source, line_no, "no ' - ' separator before the file system type");
    Mount mount{fields[4], next_token(rest), {}};
    next_token(rest);  // the mount source
    mount.super_options = next_token(rest);
    if (wanted(mount)) return std::optional<std::string>(unescape_octal(mount.point));
  }
  return std::optional<std::string>{};
}

}  // namespace

Result<std::string> parse_cgroup2_mount(std::string_view mountinfo, std::string_view source) {
  auto found = find_mount(mountinfo, source, [](const Mount& m) { return m.type == "cgroup2"; });
  if (!found) return tl::unexpected(found.error());
  if (*found) return **found;
  return fail(Errc::unsupported,
              "no cgroup2 file system is mounted (" + std::string(source) +
                  " has no cgroup2 line); mount one or pass --cgroup-root",
              std::string(source));
}

namespace {

struct Membership {
  std::string_view path;
  std::size_t line_no;
};

// The first "ID:CONTROLLERS:PATH" line of /proc/PID/cgroup text whose ID and controller list
// `wanted` accepts; nullopt if none; an Error for a line that is not of that shape.
template <class Wanted>
Result<std::optional<Membership>> find_membership(std::string_view proc_cgroup, std::string_view source,
                                                  Wanted wanted) {
  std::size_t line_no = 0;
  while (!proc_cgroup.empty()) {
    std::string_view line = next_line(proc_cgroup);
    ++line_no;
    if (line.empty()) continue;
    std::size_t first = line.find(':');
    std::size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos)
      return malformed(source, line_no, "expected ID:CONTROLLERS:PATH, found " + quoted(line));
    if (wanted(line.substr(0, first), line.substr(first + 1, second - first - 1)))
      return std::optional<Membership>(Membership{line.substr(second + 1), line_no});
  }
  return std::optional<Membership>{};
}

}  // namespace

Result<std::string> parse_cgroup2_membership(std::string_view proc_cgroup, std::string_view source) {
  auto found = find_membership(proc_cgroup, source, [](std::string_view id, std::string_view controllers) {
    return id == "0" && controllers.empty();
  });
  if (!found) return tl::unexpected(found.error());
  if (!*found)
    return fail(Errc::unsupported,
                std::string(source) + " has no cgroup2 ('0::') line: the process is in no cgroup2 hierarchy",
                std::string(source));
  std::string_view path = (*found)->path;
  if (path.empty() || path.front() != '/')
    return malformed(source, (*found)->line_no, "cgroup path is not absolute: " + quoted(path));
  return std::string(path);
}

Result<HostMemory> parse_meminfo(std::string_view text, std::string_view source) {
  std::optional<std::uint64_t> total, available;
  std::size_t line_no = 0;
  while (!text.empty()) {
    std::string_view rest = next_line(text);
    ++line_no;
    std::string_view key = next_token(rest);
    std::optional<std::uint64_t>* slot = key == "MemTotal:"       ? &total
                                         : key == "MemAvailable:" ? &available
                                                                  : nullptr;
    if (slot == nullptr) continue;
    std::uint64_t kib = 0;
    std::string_view number = next_token(rest);
    std::string_view unit = next_token(rest);
    if (!parse_u64(number, kib) || unit != "kB" || kib > (UINT64_MAX >> 10))
      return malformed(source, line_no, "expected '" + std::string(key) + " <number> kB'");
    *slot = kib << 10;
  }
  if (!total || !available)
    return malformed(source, 0,
                     std::string(total ? "no MemAvailable line (kernel 3.14+)" : "no MemTotal line"));
  return HostMemory{*total, *available};
}

namespace {

bool has_word(std::string_view list, std::string_view word) {
  while (!list.empty()) {
    std::size_t comma = std::min(list.find(','), list.size());
    if (list.substr(0, comma) == word) return true;
    list.remove_prefix(comma == list.size() ? comma : comma + 1);
  }
  return false;
}

}  // namespace

Result<std::string> parse_cgroup1_mount(std::string_view mountinfo, std::string_view controller,
                                        std::string_view source) {
  auto found = find_mount(mountinfo, source, [controller](const Mount& m) {
    return m.type == "cgroup" && has_word(m.super_options, controller);
  });
  if (!found) return tl::unexpected(found.error());
  if (*found) return **found;
  return fail(
      Errc::unsupported,
      "no cgroup v1 hierarchy with the " + std::string(controller) + " controller in " + std::string(source),
      std::string(source));
}

Result<std::string> parse_cgroup1_membership(std::string_view proc_cgroup, std::string_view controller,
                                             std::string_view source) {
  auto found =
      find_membership(proc_cgroup, source, [controller](std::string_view, std::string_view controllers) {
        return has_word(controllers, controller);
      });
  if (!found) return tl::unexpected(found.error());
  if (!*found)
    return fail(Errc::unsupported,
                std::string(source) + " has no cgroup v1 line with " + std::string(controller),
                std::string(source));
  return std::string((*found)->path);
}

Result<MemoryLevel> memory_level_from_sysctl(std::int64_t value) {
  switch (value) {
    case 1: return MemoryLevel::normal;
    case 2: return MemoryLevel::warn;
    case 4: return MemoryLevel::critical;
    default:
      return fail(Errc::malformed,
                  "kern.memorystatus_vm_pressure_level is " + std::to_string(value) +
                      ", not one of 1 (normal), 2 (warn), 4 (critical)",
                  "kern.memorystatus_vm_pressure_level");
  }
}

}  // namespace pressure
