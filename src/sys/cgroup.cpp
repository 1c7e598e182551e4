// Cgroup directories: their processes and children, cgroup.kill, and control files read and
// written.
#include <algorithm>
#include <cerrno>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys/control.hpp"
#include "sys/files.hpp"
#include "sys/small_file.hpp"

namespace pressure::sys {

namespace {

void collect_processes(const std::string& dir, bool recursive, std::vector<Pid>& out, Result<void>& status) {
  Result<std::string> text = read_small_file(dir + "/cgroup.procs");
  if (!text) {
    if (status) status = tl::unexpected(text.error());
    return;
  }
  std::string_view v = *text;
  while (!v.empty()) {
    std::size_t nl = v.find('\n');
    if (auto pid = parse_u64(v.substr(0, nl)); pid && *pid > 0) out.push_back(static_cast<Pid>(*pid));
    v = nl == std::string_view::npos ? std::string_view{} : v.substr(nl + 1);
  }
  if (!recursive) return;
  if (auto children = child_cgroups(dir)) {
    for (const std::string& child : *children) collect_processes(dir + "/" + child, true, out, status);
  }
}

}  // namespace

Result<std::vector<Pid>> cgroup_processes(const std::string& dir, bool recursive) {
  std::vector<Pid> pids;
  Result<void> status;
  collect_processes(dir, recursive, pids, status);
  if (!status && pids.empty()) return tl::unexpected(status.error());
  return pids;
}

bool cgroup_exists(const std::string& dir) {
  struct stat st {};
  return ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::vector<std::string>> child_cgroups(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    int err = errno;
    if (err == ENOENT) return fail(Errc::not_found, "cgroup " + dir + " does not exist", dir, err);
    return tl::unexpected(open_error(err, dir, "the cgroup"));
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    if (e->d_type != DT_DIR) continue;
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

Result<void> cgroup_kill(const std::string& dir) {
  std::string path = dir + "/cgroup.kill";
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT)
      return fail(Errc::unsupported, path + " does not exist (needs Linux 5.14+)", path, err);
    return tl::unexpected(open_error(err, path, "it"));
  }
  ssize_t n = ::write(fd, "1", 1);
  int err = errno;
  ::close(fd);
  if (n != 1) {
    if (err == ENODEV || err == ENOENT) return fail(Errc::gone, "cgroup " + dir + " is gone", path, err);
    return fail(Errc::system, "cannot write " + path + ": " + errno_text(err), path, err);
  }
  return {};
}

Result<ControlFile> ControlFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return fail(Errc::not_found, path + " does not exist", path, err);
    return tl::unexpected(open_error(err, path, "it"));
  }
  ControlFile file;
  file.m_path = path;
  file.m_fd = Fd(real_io().get(), fd);
  return file;
}

Result<void> ControlFile::write(const std::string& value) const {
  ssize_t n = ::write(m_fd.get(), value.data(), value.size());
  if (n == static_cast<ssize_t>(value.size())) return {};
  int err = n < 0 ? errno : EIO;
  if (err == ENODEV)
    return fail(Errc::gone, "cannot write '" + value + "' to " + m_path + ": its cgroup was removed", m_path,
                err);
  return fail(Errc::system, "cannot write '" + value + "' to " + m_path + ": " + errno_text(err), m_path,
              err);
}

Result<void> write_control(const std::string& path, const std::string& value) {
  Result<ControlFile> file = ControlFile::open(path);
  if (!file) return tl::unexpected(file.error());
  return file->write(value);
}

Result<std::string> read_text(const std::string& path, const Io& io) { return read_small_file(path, io); }

Result<std::string> read_control(const std::string& path) {
  Result<std::string> text = read_small_file(path);
  if (!text) return text;
  std::string v = text->substr(0, text->find('\n'));
  return v;
}

}  // namespace pressure::sys
