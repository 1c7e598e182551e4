// Any bytes as /proc/PID/cgroup: an absolute cgroup2 path or a clear error.
#include <cstdint>
#include <cstdlib>

#include <pressure/parse.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto path = pressure::parse_cgroup2_membership(text, "fuzz");
  if (path && (path->empty() || path->front() != '/')) std::abort();
  if (!path && path.error().message().empty()) std::abort();
  auto v1 = pressure::parse_cgroup1_membership(text, "memory", "fuzz");
  if (v1 && v1->size() > size) std::abort();
  return 0;
}
