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

int Io::list_directories(int dirfd, std::vector<std::string>& names) const {
  // fdopendir takes ownership, so give it a duplicate; the duplicate shares the offset,
  // hence the rewind.
  int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return -errno;
  DIR* dir = ::fdopendir(dup);
  if (dir == nullptr) {
    int err = errno;
    ::close(dup);
    return -err;
  }
  ::rewinddir(dir);
  errno = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const char* name = entry->d_name;
    if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
    bool is_dir = entry->d_type == DT_DIR;
    if (entry->d_type == DT_UNKNOWN) {
      struct stat st {};
      is_dir = ::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (is_dir) names.emplace_back(name);
  }
  int err = errno;
  ::closedir(dir);
  return err == 0 ? 0 : -err;
}

std::shared_ptr<const Io> real_io() {
  static const std::shared_ptr<const Io> k_real = std::make_shared<const Io>();
  return k_real;
}

}  // namespace pressure
