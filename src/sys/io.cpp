#include <pressure/io.hpp>

#include <cerrno>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace pressure {

int Io::open_at(int dirfd, const char* path, int flags) const {
  if ((flags & O_DIRECTORY) != 0) {
    int fd = ::openat(dirfd, path, flags | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
  }
  // Kernel files are regular files. A FIFO standing in for one would block the open (and a
  // device such as /dev/zero stream without end): opened without blocking and refused.
  int fd = ::openat(dirfd, path, flags | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return -errno;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return -k_not_a_regular_file;
  }
  if ((flags & O_NONBLOCK) == 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

long Io::pread(int fd, char* buf, std::size_t size, long offset) const {
  ssize_t n = ::pread(fd, buf, size, offset);
  return n >= 0 ? static_cast<long>(n) : -errno;
}

long Io::write(int fd, const char* buf, std::size_t size) const {
  ssize_t n = ::write(fd, buf, size);
  return n >= 0 ? static_cast<long>(n) : -errno;
}

int Io::close(int fd) const { return ::close(fd) == 0 ? 0 : -errno; }

int Io::list_subdirectories(int dirfd, std::vector<DirectoryEntry>& entries) const {
  // getdents64 on the fd itself: no duplicate, no DIR allocation, one call per 32 KiB of names.
  if (::lseek(dirfd, 0, SEEK_SET) < 0) return -errno;
  alignas(8) char buffer[32768];
  for (;;) {
    ssize_t n = ::getdents64(dirfd, buffer, sizeof buffer);
    if (n < 0) return -errno;
    if (n == 0) return 0;
    for (ssize_t offset = 0; offset < n;) {
      const auto* entry = reinterpret_cast<const struct dirent64*>(buffer + offset);
      offset += entry->d_reclen;
      const char* name = entry->d_name;
      if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
      bool is_dir = entry->d_type == DT_DIR;
      if (entry->d_type == DT_UNKNOWN) {
        struct stat st {};
        is_dir = ::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
      }
      if (is_dir) entries.push_back({name, static_cast<std::uint64_t>(entry->d_ino)});
    }
  }
}

int Io::identify(int dirfd, const char* path, FileIdentity& identity) const {
  struct stat st {};
  if (::fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW | (*path == '\0' ? AT_EMPTY_PATH : 0)) != 0)
    return -errno;
  identity.inode = static_cast<std::uint64_t>(st.st_ino);
  identity.links = static_cast<std::uint64_t>(st.st_nlink);
  return 0;
}

std::shared_ptr<const Io> real_io() {
  static const std::shared_ptr<const Io> k_real = std::make_shared<const Io>();
  return k_real;
}

}  // namespace pressure
