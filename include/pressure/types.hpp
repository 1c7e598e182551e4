// The values PSI reports, exactly as the kernel prints them.
//
//   pressure::Pressure p = ...;                 // one /proc/pressure/<resource> file
//   if (p.full && p.full->avg10 > 10.0) ...     // Percent converts to double
//   std::uint64_t us = p.some->total_us;        // cumulative stall, microseconds
#pragma once

#include <array>
#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <string_view>

#include <pressure/error.hpp>

namespace pressure {

enum class Resource { cpu, memory, io, irq };
inline constexpr std::array<Resource, 4> k_resources{Resource::cpu, Resource::memory, Resource::io,
                                                     Resource::irq};

// "some": at least one task stalled; "full": all non-idle tasks stalled at once.
enum class Line { some, full };
inline constexpr std::array<Line, 2> k_lines{Line::some, Line::full};

std::string_view to_string(Resource resource) noexcept;
std::string_view to_string(Line line) noexcept;
std::optional<Resource> resource_from_string(std::string_view name) noexcept;
std::optional<Line> line_from_string(std::string_view name) noexcept;

// A kernel average: a percentage with exactly two decimals, kept as integer hundredths so
// that 0.29 stays 0.29. Converts to double for arithmetic and comparisons.
class Percent {
 public:
  constexpr Percent() = default;
  static constexpr Percent from_hundredths(std::uint32_t hundredths) {
    Percent p;
    p.m_hundredths = hundredths;
    return p;
  }
  constexpr std::uint32_t hundredths() const { return m_hundredths; }
  constexpr double value() const { return m_hundredths / 100.0; }
  constexpr operator double() const { return value(); }  // NOLINT(google-explicit-constructor)
  friend constexpr bool operator==(Percent, Percent) = default;
  friend constexpr auto operator<=>(Percent, Percent) = default;

 private:
  std::uint32_t m_hundredths = 0;
};

// One line of a pressure file.
struct Stall {
  Percent avg10, avg60, avg300;
  std::uint64_t total_us = 0;  // cumulative stall time since boot (or cgroup creation)
  friend bool operator==(const Stall&, const Stall&) = default;
};

// One pressure file. A line the kernel does not print is absent, never zero:
// cpu `full` before 5.13, irq `some` always.
struct Pressure {
  std::optional<Stall> some;
  std::optional<Stall> full;
  const std::optional<Stall>& operator[](Line line) const { return line == Line::some ? some : full; }
  friend bool operator==(const Pressure&, const Pressure&) = default;
};

// All resources of one target at one moment. A resource that could not be read holds its
// Error (code `unavailable` when the kernel does not provide it).
struct Snapshot {
  std::chrono::system_clock::time_point time;       // wall clock, for people and JSON
  std::chrono::steady_clock::time_point monotonic;  // for windows between snapshots
  std::array<Result<Pressure>, 4> resources;

  const Result<Pressure>& operator[](Resource r) const { return resources[static_cast<std::size_t>(r)]; }
  Result<Pressure>& operator[](Resource r) { return resources[static_cast<std::size_t>(r)]; }
};

// Host memory from /proc/meminfo.
struct HostMemory {
  std::uint64_t total = 0;      // MemTotal, bytes
  std::uint64_t available = 0;  // MemAvailable, bytes
};

// A process's own memory: its cgroup's usage against its limit, or RSS against a budget.
struct LocalMemory {
  std::uint64_t usage = 0;
  std::optional<std::uint64_t> limit;  // memory.max (or memory.high), the v1 limit, or a budget
};

// macOS's only signal: kern.memorystatus_vm_pressure_level, a discrete instantaneous level.
enum class MemoryLevel { normal, warn, critical };
std::string_view to_string(MemoryLevel level) noexcept;

}  // namespace pressure
