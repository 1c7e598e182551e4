// An owned file descriptor, closed through the Io it came from.
#pragma once

#include <utility>

#include <pressure/io.hpp>

namespace pressure::sys {

class Fd {
 public:
  Fd() = default;
  Fd(const Io* io, int fd) : m_io(io), m_fd(fd) {}
  Fd(Fd&& other) noexcept : m_io(other.m_io), m_fd(std::exchange(other.m_fd, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      m_io = other.m_io;
      m_fd = std::exchange(other.m_fd, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return m_fd; }
  explicit operator bool() const { return m_fd >= 0; }
  void reset() {
    if (m_fd >= 0) m_io->close(m_fd);
    m_fd = -1;
  }

 private:
  const Io* m_io = nullptr;
  int m_fd = -1;
};

}  // namespace pressure::sys
