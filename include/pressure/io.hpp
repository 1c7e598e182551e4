// The seam through which every read of the library goes. The default is the real system;
// tests derive from it to produce what files alone cannot (EOPNOTSUPP, ENODEV, EACCES).
//
//   struct NoIrq : pressure::Io {
//     long pread(int fd, char* buf, std::size_t n, long off) const override { ... return -EOPNOTSUPP; }
//   };
//   pressure::Reader r{pressure::Target::system(), {.io = std::make_shared<NoIrq>()}};
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pressure {

// What open_at gives (negated, like an errno) for a path that is neither a directory nor a
// regular file; above every errno value, so it means nothing else.
inline constexpr int k_not_a_regular_file = 4096;

struct DirectoryEntry {
  std::string name;
  std::uint64_t inode = 0;
};

struct FileIdentity {
  std::uint64_t inode = 0;
  // For a directory on cgroupfs (and most file systems): 2 + its subdirectories.
  std::uint64_t links = 0;
};

class Io {
 public:
  virtual ~Io() = default;
  // Each returns the result of the system call, or -errno on failure. open_at opens only
  // directories (with O_DIRECTORY) and regular files: anything else (a FIFO, a device, a socket)
  // is -k_not_a_regular_file, without ever blocking.
  virtual int open_at(int dirfd, const char* path, int flags) const;
  virtual long pread(int fd, char* buf, std::size_t size, long offset) const;
  virtual long write(int fd, const char* buf, std::size_t size) const;
  virtual int close(int fd) const;
  // The entries of a directory that are themselves directories, with their inode numbers (on
  // cgroupfs, the cgroup's id: a group made again under the same name has another); -errno on
  // failure. `dirfd` stays open and owned by the caller; it is read from its start every time.
  virtual int list_subdirectories(int dirfd, std::vector<DirectoryEntry>& entries) const;
  // The inode number and link count of `path` relative to `dirfd` (not following a symbolic
  // link), or of `dirfd` itself for an empty path; -errno on failure.
  virtual int identify(int dirfd, const char* path, FileIdentity& identity) const;
};

// The real system; shared by every Reader that does not get another.
std::shared_ptr<const Io> real_io();

}  // namespace pressure
