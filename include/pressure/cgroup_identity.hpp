// What a cgroup is, in the names people know it by: a systemd unit, a container (runtime and
// full id), a Kubernetes pod (QoS class and UID). A pure function of the path, no I/O.
//
//   pressure::CgroupIdentity id = pressure::identify_cgroup(
//       "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1d2c_3e4f_..."
//       ".slice/cri-containerd-9ab0....scope");
//   id.kind;          // CgroupKind::container
//   id.runtime;       // "containerd"
//   id.container_id;  // "9ab0..." (64 hex digits)
//   id.pod_uid;       // "1d2c-3e4f-..." (systemd's '_' back to '-')
//   id.qos_class;     // "burstable"
//   id.name;          // "containerd 9ab0c1d2e3f4 (pod 1d2c3e4f)"
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pressure {

enum class CgroupKind {
  other,      // nothing recognised: `name` is the path
  root,       // "/"
  unit,       // a systemd unit: *.service, *.scope, *.slice, *.socket, *.mount, *.swap
  pod,        // a Kubernetes pod's group (systemd or cgroupfs driver)
  container,  // a container's group (docker, containerd, CRI-O, podman), or below it
};
// "other", "root", "unit", "pod", "container".
std::string_view to_string(CgroupKind kind) noexcept;

// Every field is empty when the path does not say it.
struct CgroupIdentity {
  CgroupKind kind = CgroupKind::other;
  // Short, for a column: "nginx.service", "session 4 (uid 1000)", "docker 3f2a1b2c3d4e",
  // "pod 1d2c3e4f (burstable)"; groups below the recognised one follow after a '/'.
  std::string name;
  std::string unit;          // the innermost systemd unit on the path ("docker-3f2a....scope")
  std::string user;          // the uid of user-UID.slice or user@UID.service ("1000")
  std::string session;       // a login session's id, from session-ID.scope in a user's slice
  std::string runtime;       // "docker", "containerd", "cri-o", "podman"; empty if not told
  std::string container_id;  // the full id, 64 lowercase hex digits
  std::string pod_uid;       // "1d2c3e4f-5a6b-..." (or a static pod's 32 hex digits)
  std::string qos_class;     // "guaranteed", "burstable", "besteffort"
  // podman's and CRI-O's monitor next to a container (libpod-conmon-ID.scope): kind unit, with
  // the runtime and id of the container it watches.
  bool conmon = false;
  friend bool operator==(const CgroupIdentity&, const CgroupIdentity&) = default;
};

// `path` is a cgroup path relative to the cgroup2 mount ("/system.slice/nginx.service"; the
// leading '/' may be left out). Shapes recognised, with either cgroup driver:
//   systemd    *.service *.scope *.slice ..., user-1000.slice/session-4.scope, user@1000.service/...
//   docker     docker-ID.scope, /docker/ID
//   containerd cri-containerd-ID.scope, nerdctl-ID.scope
//   CRI-O      crio-ID.scope (crio-conmon-ID.scope: its monitor)
//   podman     libpod-ID.scope, /libpod_parent/libpod-ID (libpod-conmon-ID.scope: its monitor)
//   kubelet    kubepods[-QOS]-podUID.slice (any "X-" prefix, as kind's kubelet-kubepods-...),
//              /kubepods[/QOS]/podUID[/ID]
// A container's or pod's group anywhere in the path names everything below it.
CgroupIdentity identify_cgroup(std::string_view path);

// What `id` says as (key, value) in a fixed order: "kind" and "name" always, then "unit",
// "user", "session", "runtime", "container_id", "pod_uid", "qos_class" where known (`conmon`
// is left to the caller). The keys of `show --json`'s "identity" and of the daemon's logs.
std::vector<std::pair<std::string_view, std::string_view>> identity_fields(const CgroupIdentity& id);

}  // namespace pressure
