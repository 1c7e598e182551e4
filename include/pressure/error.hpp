// Errors the library returns instead of throwing.
//
//   pressure::Result<pressure::Pressure> m = pressure::memory();
//   if (!m) {
//     std::cerr << m.error().message() << '\n';          // a sentence naming the file
//     if (m.error().code() == pressure::Errc::unsupported) return 3;
//   }
#pragma once

#include <memory>
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
// The code as an identifier ("not_found", "invalid_argument"), for labels and bindings.
std::string_view code_name(Errc code) noexcept;

// Immutable and cheap to copy (one shared allocation), so a snapshot can carry the same
// "not provided" error every time without allocating.
class Error {
 public:
  Error(Errc code, std::string message, std::string path = {}, int sys_errno = 0)
      : m_code(code),
        m_errno(sys_errno),
        m_detail(std::make_shared<const Detail>(Detail{std::move(path), std::move(message)})) {}

  Errc code() const { return m_code; }
  int sys_errno() const { return m_errno; }                         // the errno behind it, 0 if none
  const std::string& path() const { return m_detail->path; }        // the file or cgroup at fault, if any
  const std::string& message() const { return m_detail->message; }  // what, where, what to do

  // The same error with `context` put before its message ("[daemon] listen: " + message), its
  // code, errno and path kept: for a caller that knows where the error happened.
  Error with_context(std::string_view context) const {
    return Error(m_code, std::string(context) + message(), path(), m_errno);
  }

 private:
  struct Detail {
    std::string path;
    std::string message;
  };
  Errc m_code;
  int m_errno;
  std::shared_ptr<const Detail> m_detail;
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(Errc code, std::string message, std::string path = {}, int sys_errno = 0) {
  return tl::unexpected<Error>(Error(code, std::move(message), std::move(path), sys_errno));
}

}  // namespace pressure
