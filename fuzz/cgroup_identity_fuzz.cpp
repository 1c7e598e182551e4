// Any bytes as a cgroup path given to identify_cgroup (a directory name can hold any byte but
// '/' and NUL): it never fails, and what it says keeps its promises.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <pressure/cgroup_identity.hpp>

namespace {

bool lower_hex(const std::string& s) { return s.find_first_not_of("0123456789abcdef") == std::string::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string path(reinterpret_cast<const char*>(data), size);
  pressure::CgroupIdentity id = pressure::identify_cgroup(path);
  if (id.name.empty()) std::abort();
  if (!id.container_id.empty() && (id.container_id.size() != 64 || !lower_hex(id.container_id))) std::abort();
  if (id.kind == pressure::CgroupKind::container && id.container_id.empty()) std::abort();
  if (id.kind == pressure::CgroupKind::pod && (id.pod_uid.empty() || id.qos_class.empty())) std::abort();
  if (!id.pod_uid.empty() && id.pod_uid.size() != 36 && id.pod_uid.size() != 32) std::abort();
  if (id.kind == pressure::CgroupKind::unit && id.unit.empty()) std::abort();
  if (!id.session.empty() && id.user.empty()) std::abort();
  // Repeated slashes are the same path.
  if (pressure::identify_cgroup("/" + path + "/") != id) std::abort();
  return 0;
}
