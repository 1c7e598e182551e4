// A temporary directory for one test, removed with everything in it (modes reset first, so a
// test that locked a folder still cleans up).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace pressure::test {

class TempDir {
 public:
  explicit TempDir(const std::string& purpose = "test") {
    std::string pattern =
        (std::filesystem::temp_directory_path() / ("pressure-" + purpose + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) != nullptr) m_path = pattern;
  }
  ~TempDir() {
    if (m_path.empty()) return;
    std::error_code ec;
    std::filesystem::permissions(m_path, std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !m_path.empty(); }
  const std::string& path() const { return m_path; }
  std::string file(const std::string& name) const { return m_path + "/" + name; }

 private:
  std::string m_path;
};

}  // namespace pressure::test
