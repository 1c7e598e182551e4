// The service manager's pressure watch: systemd's $MEMORY_PRESSURE_WATCH and
// $MEMORY_PRESSURE_WRITE (and CPU_/IO_ for cpu and io), read the way systemd's own sd-event reads
// them, so a unit's MemoryPressureWatch= and MemoryPressureThresholdSec= reach the program.
//
//   auto request = pressure::environment_watch(pressure::Resource::memory);
//   if (!request) return log(request.error().message());  // names the variable and the fault
//   switch (request->state) {
//     case pressure::EnvironmentWatch::State::watch:     // what the unit asked for
//       monitor.add(*request, [](const pressure::Event&) { drop_caches(); });
//       break;
//     case pressure::EnvironmentWatch::State::unset:     // no service manager: the default
//       monitor.add(pressure::Target::self(), my_spec, [](const pressure::Event&) { drop_caches(); });
//       break;
//     case pressure::EnvironmentWatch::State::disabled:  // "/dev/null": the unit said don't
//       break;
//   }
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <pressure/error.hpp>
#include <pressure/trigger.hpp>
#include <pressure/types.hpp>

namespace pressure {

struct EnvironmentWatch {
  enum class State {
    unset,     // $..._PRESSURE_WATCH is not set: the caller's own default applies
    disabled,  // set to /dev/null (or empty): do not watch this resource at all
    watch,     // `path` is to be watched
  };
  State state = State::unset;
  Resource resource = Resource::memory;
  // An absolute, normalised path: a pressure file, an AF_UNIX socket or a FIFO (watch only).
  std::string path;
  // The decoded $..._PRESSURE_WRITE (may hold NUL bytes), written right after opening; empty if
  // the variable is unset.
  std::string write;
  // `write` read as a kernel trigger ("some 200000 2000000", NUL-terminated as systemd writes
  // it), when it is one: what the events report as their spec.
  std::optional<TriggerSpec> trigger;
};

// "MEMORY_PRESSURE_WATCH" / "CPU_PRESSURE_WATCH" / "IO_PRESSURE_WATCH"; irq has none ("").
std::string_view watch_variable(Resource resource) noexcept;
// "MEMORY_PRESSURE_WRITE" / "CPU_PRESSURE_WRITE" / "IO_PRESSURE_WRITE"; irq has none ("").
std::string_view write_variable(Resource resource) noexcept;

// Longest path accepted (PATH_MAX without its NUL) and most bytes written (PIPE_BUF: one
// atomic write to a FIFO; a kernel trigger needs about 30).
inline constexpr std::size_t k_max_watch_path = 4095;
inline constexpr std::size_t k_max_watch_write = 4096;

// The two variables' values (nullopt: unset) as the request they make. Errors, of kind
// invalid_argument, name the variable: a relative or unnormalised path ("..", "//", "/./"), an
// over-long value, bad base64. $..._WRITE is read only when $..._WATCH asks for a watch.
Result<EnvironmentWatch> parse_environment_watch(Resource resource, std::optional<std::string_view> watch,
                                                 std::optional<std::string_view> write);

// Standard base64 (RFC 4648 §4) with its padding; spaces, tabs and newlines between characters
// are skipped. Errors say which character is wrong and where.
Result<std::string> decode_base64(std::string_view text);

// The canonical base64 of `bytes` (padded, no line breaks): what decode_base64 reads back.
std::string encode_base64(std::string_view bytes);

// What this process's environment asks for `resource` (secure_getenv: a set-uid program sees
// nothing, as with sd-event).
Result<EnvironmentWatch> environment_watch(Resource resource);

}  // namespace pressure
