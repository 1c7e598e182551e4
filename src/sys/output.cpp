#include "sys/output.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys/files.hpp"

namespace pressure::sys {
namespace {

std::string_view kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

Error refused(const std::string& path, std::string_view why) {
  return Error(Errc::invalid_argument, path + ": " + std::string(why) + "; nothing written", path);
}

Error failed(const std::string& path, std::string_view doing, int err) {
  return Error(err == EACCES || err == EPERM || err == EROFS ? Errc::permission : Errc::system,
               path + ": cannot " + std::string(doing) + ": " + errno_text(err), path, err);
}

// The file a path names, links followed; the path itself when it does not exist yet.
Result<std::string> resolve(const std::string& path) {
  struct stat link {};
  if (::lstat(path.c_str(), &link) != 0 || !S_ISLNK(link.st_mode)) return path;
  char real[PATH_MAX];
  if (::realpath(path.c_str(), real) == nullptr)
    return tl::unexpected(refused(path, "is a symbolic link to a file that does not exist"));
  return std::string(real);
}

}  // namespace

Result<void> replace_file(const std::string& path, std::string_view content,
                          const std::vector<std::string>& inputs) {
  Result<std::string> target = resolve(path);
  if (!target) return tl::unexpected(target.error());
  struct stat existing {};
  bool exists = ::stat(target->c_str(), &existing) == 0;
  if (!exists && errno != ENOENT) return tl::unexpected(failed(path, "look at it", errno));
  if (exists && !S_ISREG(existing.st_mode))
    return tl::unexpected(
        refused(path, "is " + std::string(kind_of(existing.st_mode)) + ", not a regular file"));
  for (const std::string& input : inputs) {
    struct stat in {};
    if (exists && ::stat(input.c_str(), &in) == 0 && in.st_dev == existing.st_dev &&
        in.st_ino == existing.st_ino)
      return tl::unexpected(refused(path, "is " + input + ", which this command reads"));
  }

  std::string::size_type slash = target->rfind('/');
  std::string dir = slash == std::string::npos ? "." : target->substr(0, slash + 1);
  std::string base = slash == std::string::npos ? *target : target->substr(slash + 1);
  std::string temporary =
      dir + (slash == std::string::npos ? "/." : ".") + base + ".tmp-" + std::to_string(::getpid());
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                  exists ? existing.st_mode & 07777 : 0666);
  if (fd < 0) return tl::unexpected(failed(path, "write it", errno));
  auto abandon = [&](std::string_view doing, int err) {
    ::close(fd);
    ::unlink(temporary.c_str());
    return tl::unexpected(failed(path, doing, err));
  };
  if (exists) {
    // open() applied the umask; the replaced file keeps exactly its mode, and its owner when we may.
    if (::fchmod(fd, existing.st_mode & 07777) != 0) return abandon("keep its mode", errno);
    if (::geteuid() == 0 && ::fchown(fd, existing.st_uid, existing.st_gid) != 0)
      return abandon("keep its owner", errno);
  }
  for (std::size_t done = 0; done < content.size();) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return abandon("write it", n < 0 ? errno : EIO);
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(temporary.c_str());
    return tl::unexpected(failed(path, "write it", err));
  }
  if (::rename(temporary.c_str(), target->c_str()) != 0) {
    int err = errno;
    ::unlink(temporary.c_str());
    return tl::unexpected(failed(path, "write it", err));
  }
  return {};
}

int write_access(const std::string& path) { return ::access(path.c_str(), W_OK) == 0 ? 0 : errno; }

Result<Fd> lock_exclusive(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
  if (fd < 0) {
    int err = errno;
    return fail(err == EACCES || err == EPERM ? Errc::permission : Errc::system,
                path + ": cannot open it: " + errno_text(err), path, err);
  }
  Fd owned(real_io().get(), fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    return fail(Errc::system, path + ": cannot lock it: " + errno_text(err), path, err);
  }
  return owned;
}

}  // namespace pressure::sys
