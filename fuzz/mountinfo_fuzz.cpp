// Any bytes as /proc/self/mountinfo: a mount point or a clear error, never a crash.
#include <cstdint>
#include <cstdlib>

#include <pressure/parse.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto mount = pressure::parse_cgroup2_mount(text, "fuzz");
  if (!mount && mount.error().message().empty()) std::abort();
  if (mount && mount->size() > size) std::abort();  // unescaping only shrinks
  return 0;
}
