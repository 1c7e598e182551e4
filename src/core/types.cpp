#include <pressure/error.hpp>
#include <pressure/types.hpp>

namespace pressure {

std::string_view code_name(Errc code) noexcept {
  switch (code) {
    case Errc::unsupported: return "unsupported";
    case Errc::unavailable: return "unavailable";
    case Errc::not_found: return "not_found";
    case Errc::gone: return "gone";
    case Errc::permission: return "permission";
    case Errc::malformed: return "malformed";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::system: return "system";
  }
  return "system";
}

std::string_view to_string(Errc code) noexcept {
  switch (code) {
    case Errc::unsupported: return "unsupported";
    case Errc::unavailable: return "unavailable";
    case Errc::not_found: return "not found";
    case Errc::gone: return "gone";
    case Errc::permission: return "permission denied";
    case Errc::malformed: return "malformed";
    case Errc::invalid_argument: return "invalid argument";
    case Errc::system: return "system error";
  }
  return "error";
}

std::string_view to_string(Resource resource) noexcept {
  switch (resource) {
    case Resource::cpu: return "cpu";
    case Resource::memory: return "memory";
    case Resource::io: return "io";
    case Resource::irq: return "irq";
  }
  return "?";
}

std::string_view to_string(Line line) noexcept { return line == Line::some ? "some" : "full"; }

std::string_view to_string(MemoryLevel level) noexcept {
  switch (level) {
    case MemoryLevel::normal: return "normal";
    case MemoryLevel::warn: return "warn";
    case MemoryLevel::critical: return "critical";
  }
  return "?";
}

std::optional<Resource> resource_from_string(std::string_view name) noexcept {
  for (Resource r : k_resources)
    if (to_string(r) == name) return r;
  return std::nullopt;
}

std::optional<Line> line_from_string(std::string_view name) noexcept {
  for (Line l : k_lines)
    if (to_string(l) == name) return l;
  return std::nullopt;
}

}  // namespace pressure
