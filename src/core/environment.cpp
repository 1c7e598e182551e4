// The service manager's pressure watch as values: the variables' names, base64, the path rules
// of sd-event (absolute, normalised), and the kernel trigger a write text may be. No I/O.
#include <pressure/environment.hpp>

#include <array>
#include <charconv>

#include "core/printable.hpp"

namespace pressure {
namespace {

std::string quoted(std::string_view value) {
  constexpr std::size_t k_shown = 80;  // enough to recognise a value, not a page of it
  if (value.size() <= k_shown) return "'" + core::printable(value) + "'";
  return "'" + core::printable(value.substr(0, k_shown)) + "'... (" + std::to_string(value.size()) +
         " bytes)";
}

tl::unexpected<Error> bad(std::string_view variable, std::string_view value, const std::string& why) {
  return fail(Errc::invalid_argument, "$" + std::string(variable) + "=" + quoted(value) + ": " + why);
}

// sd-event's rule: "/dev/null" however it is spelt with repeated or trailing slashes.
bool is_dev_null(std::string_view path) {
  std::string collapsed;
  for (char c : path)
    if (c != '/' || collapsed.empty() || collapsed.back() != '/') collapsed.push_back(c);
  if (collapsed.size() > 1 && collapsed.back() == '/') collapsed.pop_back();
  return collapsed == "/dev/null";
}

// Why `path` is not an absolute, normalised path (no ".", "..", "//"), or "".
std::string path_problem(std::string_view path) {
  if (path.front() != '/') return "not an absolute path";
  if (path.find('\0') != std::string_view::npos) return "holds a NUL byte";
  if (path.find("//") != std::string_view::npos) return "not normalised ('//')";
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = std::min(path.find('/', start), path.size());
    std::string_view part = path.substr(start, end - start);
    if (part == "." || part == "..") return "not normalised ('" + std::string(part) + "')";
    start = end + 1;
  }
  return "";
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool parse_microseconds(std::string_view text, std::chrono::microseconds& out) {
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value < 0) return false;
  out = std::chrono::microseconds(value);
  return true;
}

// "some 200000 2000000" (the kernel's own trigger syntax, maybe NUL- or newline-terminated).
std::optional<TriggerSpec> kernel_trigger(Resource resource, std::string_view text) {
  while (!text.empty() && (text.back() == '\0' || text.back() == '\n')) text.remove_suffix(1);
  std::size_t first = text.find(' ');
  if (first == std::string_view::npos) return std::nullopt;
  std::size_t second = text.find(' ', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  TriggerSpec spec;
  spec.resource = resource;
  std::string_view line = text.substr(0, first);
  if (line == "some")
    spec.line = Line::some;
  else if (line == "full")
    spec.line = Line::full;
  else
    return std::nullopt;
  if (!parse_microseconds(text.substr(first + 1, second - first - 1), spec.stall) ||
      !parse_microseconds(text.substr(second + 1), spec.window))
    return std::nullopt;
  return spec;
}

}  // namespace

// Indexed by Resource (cpu, memory, io, irq); irq has no watch.
constexpr std::array<std::array<std::string_view, 2>, 4> k_variables{{
    {"CPU_PRESSURE_WATCH", "CPU_PRESSURE_WRITE"},
    {"MEMORY_PRESSURE_WATCH", "MEMORY_PRESSURE_WRITE"},
    {"IO_PRESSURE_WATCH", "IO_PRESSURE_WRITE"},
    {"", ""},
}};

std::string_view watch_variable(Resource resource) noexcept {
  return k_variables[static_cast<std::size_t>(resource)][0];
}

std::string_view write_variable(Resource resource) noexcept {
  return k_variables[static_cast<std::size_t>(resource)][1];
}

std::string encode_base64(std::string_view bytes) {
  static constexpr std::string_view k_alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 3; ++j)
      group = group << 8 | (j < n ? static_cast<unsigned char>(bytes[i + j]) : 0u);
    for (std::size_t j = 0; j < 4; ++j)
      out.push_back(j <= n ? k_alphabet[(group >> (18 - 6 * j)) & 63] : '=');
  }
  return out;
}

Result<std::string> decode_base64(std::string_view text) {
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;    // characters of the current quantum
  int padding = 0;  // '=' seen so far
  std::size_t position = 0;
  for (char c : text) {
    ++position;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    std::string where = "character " + std::to_string(position);
    if (c == '=') {
      if (count < 2) return fail(Errc::invalid_argument, where + ": '=' where no padding can be");
      ++padding;
      ++count;
    } else {
      int value = base64_value(c);
      if (value < 0)
        return fail(Errc::invalid_argument, where + " (" + core::printable(std::string_view(&c, 1)) +
                                                ") is not in the base64 alphabet (A-Z a-z 0-9 + /)");
      if (padding != 0) return fail(Errc::invalid_argument, where + ": data after the '=' padding");
      bits = bits << 6 | static_cast<std::uint32_t>(value);
      ++count;
    }
    if (count < 4) continue;
    bits <<= 6 * padding;  // a padded quantum holds 1 or 2 bytes; its unused bits must be zero
    if (padding > 0 && (bits & ((1u << (8 * padding)) - 1)) != 0)
      return fail(Errc::invalid_argument,
                  where + ": the bits before the padding are not zero (not canonical)");
    for (int i = 0; i < 3 - padding; ++i) out.push_back(static_cast<char>((bits >> (16 - 8 * i)) & 0xff));
    bits = 0;
    count = 0;
    if (padding > 0) padding = -1;  // nothing may follow a padded quantum
  }
  if (padding == -1 || count == 0) return out;
  return fail(Errc::invalid_argument, "the text ends inside a 4-character group (missing '=' padding?)");
}

Result<EnvironmentWatch> parse_environment_watch(Resource resource, std::optional<std::string_view> watch,
                                                 std::optional<std::string_view> write) {
  std::string_view watch_name = watch_variable(resource);
  if (watch_name.empty())
    return fail(Errc::invalid_argument, "the service manager has no pressure watch for " +
                                            std::string(to_string(resource)) + " (only memory, cpu and io)");
  EnvironmentWatch request;
  request.resource = resource;
  if (!watch) return request;
  if (watch->empty() || is_dev_null(*watch)) {
    request.state = EnvironmentWatch::State::disabled;
    return request;
  }
  if (watch->size() > k_max_watch_path)
    return bad(watch_name, *watch, "longer than " + std::to_string(k_max_watch_path) + " bytes");
  if (std::string why = path_problem(*watch); !why.empty())
    return bad(watch_name, *watch,
               why +
                   " (the service manager sets the absolute path of a pressure file, a socket or a FIFO, or "
                   "/dev/null)");
  request.state = EnvironmentWatch::State::watch;
  request.path = std::string(*watch);
  if (!write) return request;
  std::string_view write_name = write_variable(resource);
  if (write->size() > 4 * k_max_watch_write)  // bounds the work before decoding
    return bad(write_name, *write,
               "longer than " + std::to_string(k_max_watch_write) + " decoded bytes can be");
  Result<std::string> bytes = decode_base64(*write);
  if (!bytes) return bad(write_name, *write, "not base64: " + bytes.error().message());
  if (bytes->size() > k_max_watch_write)
    return bad(write_name, *write,
               "decodes to " + std::to_string(bytes->size()) + " bytes, more than the " +
                   std::to_string(k_max_watch_write) + " written at once");
  request.write = std::move(*bytes);
  request.trigger = kernel_trigger(resource, request.write);
  return request;
}

}  // namespace pressure
