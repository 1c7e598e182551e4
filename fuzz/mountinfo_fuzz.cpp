// Any bytes as /proc/self/mountinfo (v2 and v1 mounts) or /proc/meminfo: a value or a clear
// error, never a crash.
#include <cstdint>
#include <cstdlib>

#include <pressure/parse.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto mount = pressure::parse_cgroup2_mount(text, "fuzz");
  if (!mount && mount.error().message().empty()) std::abort();
  if (mount && mount->size() > size) std::abort();  // unescaping only shrinks
  auto v1 = pressure::parse_cgroup1_mount(text, "memory", "fuzz");
  if (v1 && v1->size() > size) std::abort();
  auto meminfo = pressure::parse_meminfo(text, "fuzz");
  if (!meminfo && meminfo.error().message().empty()) std::abort();
  return 0;
}
