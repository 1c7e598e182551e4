// Errors the library returns instead of throwing.
//
//   pressure::Result<pressure::Pressure> m = pressure::memory();
//   if (!m) {
//     std::cerr << m.error().message << '\n';          // a sentence naming the file
//     if (m.error().code == pressure::Errc::unsupported) return 3;
//   }
#pragma once

#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace pressure {

// What went wrong, in the terms a caller decides on.
enum class Errc {
  unsupported,       // no PSI here at all: not Linux/macOS, or PSI disabled in the kernel
  unavailable,       // this resource is not provided (e.g. no irq), the others may be
  not_found,         // the cgroup or process asked for does not exist
  gone,              // the cgroup was removed while we held it
  permission,        // EACCES / EPERM
  malformed,         // a kernel file did not parse
  invalid_argument,  // a bad value from the caller (path, spec)
  system,            // any other OS error
};

std::string_view to_string(Errc code) noexcept;

struct Error {
  Errc code = Errc::system;
  int sys_errno = 0;    // the errno behind it, 0 if none
  std::string path;     // the file or cgroup at fault, if any
  std::string message;  // one sentence for a person: what, where, what to do
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(Errc code, std::string message, std::string path = {},
                                  int sys_errno = 0) {
  return tl::unexpected<Error>(Error{code, sys_errno, std::move(path), std::move(message)});
}

}  // namespace pressure
