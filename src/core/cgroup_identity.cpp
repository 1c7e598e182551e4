// Cgroup paths to the names people know, from the shapes systemd, kubelet and the container
// runtimes write (see the fixture table in tests/unit/cgroup_identity_test.cpp).
#include <pressure/cgroup_identity.hpp>

#include <array>
#include <optional>
#include <vector>

namespace pressure {
namespace {

constexpr std::size_t k_id_length = 64;  // every runtime here names a container by 64 hex digits
constexpr std::size_t k_short_id = 12;   // what `docker ps` and `crictl ps` show
constexpr std::size_t k_short_uid = 8;

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool all_of(std::string_view s, bool (*pred)(char)) {
  for (char c : s)
    if (!pred(c)) return false;
  return true;
}

bool is_container_id(std::string_view s) { return s.size() == k_id_length && all_of(s, is_lower_hex); }
bool is_number(std::string_view s) { return !s.empty() && s.size() <= 10 && all_of(s, is_digit); }

// `text` without `prefix` and `suffix`, if it has both (and something between).
std::optional<std::string_view> between(std::string_view text, std::string_view prefix,
                                        std::string_view suffix) {
  if (text.size() <= prefix.size() + suffix.size() || !text.starts_with(prefix) || !text.ends_with(suffix))
    return std::nullopt;
  return text.substr(prefix.size(), text.size() - prefix.size() - suffix.size());
}

// A pod UID as kubelet writes it: a UUID (8-4-4-4-12 hex) with `separator` between the groups,
// or a static pod's 32 hex digits. Returned with '-' separators.
std::optional<std::string> pod_uid(std::string_view text, char separator) {
  if (text.size() == 32 && all_of(text, is_lower_hex)) return std::string(text);
  if (text.size() != 36) return std::nullopt;
  std::string out(text);
  for (std::size_t i = 0; i < out.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? out[i] != separator : !is_lower_hex(out[i])) return std::nullopt;
    if (dash) out[i] = '-';
  }
  return out;
}

// systemd's unit name rules: [A-Za-z0-9:_.\-] and one '@' before a non-empty instance, a known
// type suffix, at most 255 bytes. Only the types that get a cgroup.
bool is_unit(std::string_view name) {
  constexpr std::array<std::string_view, 6> k_types{".service", ".scope", ".slice",
                                                    ".socket",  ".mount", ".swap"};
  if (name.size() > 255) return false;
  std::string_view stem;
  for (std::string_view type : k_types)
    if (name.size() > type.size() && name.ends_with(type)) stem = name.substr(0, name.size() - type.size());
  if (stem.empty()) return false;
  std::size_t at = stem.find('@');
  if (at == 0 ||
      (at != std::string_view::npos && (at + 1 == stem.size() || stem.find('@', at + 1) != stem.npos)))
    return false;
  for (char c : stem)
    if (!is_alnum(c) && c != ':' && c != '_' && c != '.' && c != '\\' && c != '-' && c != '@') return false;
  return true;
}

struct Runtime {
  std::string_view prefix;
  std::string_view runtime;
  bool conmon;
};
// Longer prefixes first: "libpod-conmon-" before "libpod-".
constexpr std::array<Runtime, 7> k_scopes{{
    {"docker-", "docker", false},
    {"cri-containerd-", "containerd", false},
    {"nerdctl-", "containerd", false},
    {"crio-conmon-", "cri-o", true},
    {"crio-", "cri-o", false},
    {"libpod-conmon-", "podman", true},
    {"libpod-", "podman", false},
}};

// The walk down the path: what the components so far have said.
class Walk {
 public:
  explicit Walk(CgroupIdentity& id) : m_id(id) {}

  void step(std::string_view part) {
    if (m_id.kind == CgroupKind::container) return tail(part);
    if (container(part) || pod(part)) return;
    kubepods_level(part);
    if (is_unit(part)) return unit(part);
    tail(part);
    if (m_id.kind == CgroupKind::root) m_id.kind = CgroupKind::other;
  }

  std::string_view parent() const { return m_parts.size() >= 2 ? m_parts[m_parts.size() - 2] : ""; }
  void push(std::string_view part) { m_parts.push_back(part); }
  const std::string& rest() const { return m_rest; }

 private:
  void found(CgroupKind kind) {
    m_id.kind = kind;
    m_rest.clear();
  }
  void tail(std::string_view part) {
    if (!m_rest.empty()) m_rest += '/';
    m_rest += part;
  }

  bool container(std::string_view part) {
    for (const Runtime& r : k_scopes) {
      std::optional<std::string_view> id = between(part, r.prefix, ".scope");
      if (!id || !is_container_id(*id)) continue;
      m_id.unit = part;
      return set_container(r.runtime, *id, r.conmon);
    }
    // cgroupfs drivers: /docker/ID, /libpod_parent/libpod-ID, /kubepods/.../podUID/ID.
    std::string_view up = parent();
    if (up == "docker" && is_container_id(part)) return set_container("docker", part, false);
    if (up == "libpod_parent" && part.starts_with("libpod-") && is_container_id(part.substr(7)))
      return set_container("podman", part.substr(7), false);
    if (m_cgroupfs_pod && is_container_id(part)) return set_container("", part, false);
    return false;
  }
  bool set_container(std::string_view runtime, std::string_view id, bool conmon) {
    m_id.runtime = runtime;
    m_id.container_id = id;
    m_id.conmon = conmon;
    found(conmon ? CgroupKind::unit : CgroupKind::container);
    return true;
  }

  // systemd: [X-]kubepods[-QOS]-podUID.slice; cgroupfs: podUID under kubepods or its QoS level.
  bool pod(std::string_view part) {
    m_cgroupfs_pod = false;
    if (std::optional<std::string_view> stem = between(part, "", ".slice")) {
      std::size_t at = stem->rfind("-pod");
      if (at == std::string_view::npos) return false;
      std::optional<std::string> uid = pod_uid(stem->substr(at + 4), '_');
      std::optional<std::string_view> qos = slice_qos(stem->substr(0, at));
      if (!uid || !qos) return false;
      m_id.unit = part;
      return set_pod(std::move(*uid), *qos);
    }
    if (!m_cgroupfs_qos || !part.starts_with("pod")) return false;
    std::optional<std::string> uid = pod_uid(part.substr(3), '-');
    if (!uid) return false;
    m_cgroupfs_pod = true;
    return set_pod(std::move(*uid), *m_cgroupfs_qos);
  }
  bool set_pod(std::string uid, std::string_view qos) {
    m_id.pod_uid = std::move(uid);
    m_id.qos_class = qos;
    m_cgroupfs_qos.reset();
    found(CgroupKind::pod);
    return true;
  }
  // "kubepods" (guaranteed), "kubepods-burstable", "kubelet-kubepods-besteffort", ...
  static std::optional<std::string_view> slice_qos(std::string_view stem) {
    for (std::string_view qos : {"burstable", "besteffort"})
      if (stem.ends_with(qos) && stem.size() > qos.size() && stem[stem.size() - qos.size() - 1] == '-') {
        stem.remove_suffix(qos.size() + 1);
        if (is_kubepods(stem)) return qos;
        return std::nullopt;
      }
    if (is_kubepods(stem)) return "guaranteed";
    return std::nullopt;
  }
  static bool is_kubepods(std::string_view stem) {
    return stem == "kubepods" || (stem.ends_with("-kubepods") && stem.size() > 9);
  }
  // The cgroupfs driver's levels: kubepods (guaranteed pods), then burstable and besteffort.
  void kubepods_level(std::string_view part) {
    std::optional<std::string_view> next;
    if (part == "kubepods") next = "guaranteed";
    if (parent() == "kubepods" && (part == "burstable" || part == "besteffort")) next = part;
    m_cgroupfs_qos = next;
  }

  void unit(std::string_view part) {
    m_id.unit = part;
    std::optional<std::string_view> slice_uid = between(part, "user-", ".slice");
    std::optional<std::string_view> manager_uid = between(part, "user@", ".service");
    std::optional<std::string_view> session = between(part, "session-", ".scope");
    if (slice_uid && is_number(*slice_uid))
      m_id.user = *slice_uid;
    else if (manager_uid && is_number(*manager_uid))
      m_id.user = *manager_uid;
    else if (session && all_of(*session, is_alnum) && !m_id.user.empty() &&
             parent() == "user-" + m_id.user + ".slice")
      m_id.session = *session;
    found(CgroupKind::unit);
  }

  CgroupIdentity& m_id;
  std::vector<std::string_view> m_parts;
  std::string m_rest;
  std::optional<std::string_view> m_cgroupfs_qos;  // the previous part was a cgroupfs QoS level
  bool m_cgroupfs_pod = false;                     // the previous part was a cgroupfs pod
};

std::string display_name(const CgroupIdentity& id, std::string_view path) {
  std::string out;
  switch (id.kind) {
    case CgroupKind::root: return "/";
    case CgroupKind::other: return std::string(path);
    case CgroupKind::container:
      out = (id.runtime.empty() ? "container" : id.runtime) + " " + id.container_id.substr(0, k_short_id);
      if (!id.pod_uid.empty()) out += " (pod " + id.pod_uid.substr(0, k_short_uid) + ")";
      return out;
    case CgroupKind::pod: return "pod " + id.pod_uid.substr(0, k_short_uid) + " (" + id.qos_class + ")";
    case CgroupKind::unit:
      if (id.conmon) return "conmon of " + id.runtime + " " + id.container_id.substr(0, k_short_id);
      if (!id.session.empty()) return "session " + id.session + " (uid " + id.user + ")";
      out = id.unit;
      if (!id.user.empty() && id.unit != "user-" + id.user + ".slice" &&
          id.unit != "user@" + id.user + ".service")
        out += " (uid " + id.user + ")";
      return out;
  }
  return out;
}

}  // namespace

std::string_view to_string(CgroupKind kind) noexcept {
  switch (kind) {
    case CgroupKind::other: return "other";
    case CgroupKind::root: return "root";
    case CgroupKind::unit: return "unit";
    case CgroupKind::pod: return "pod";
    case CgroupKind::container: return "container";
  }
  return "other";
}

std::vector<std::pair<std::string_view, std::string_view>> identity_fields(const CgroupIdentity& id) {
  std::vector<std::pair<std::string_view, std::string_view>> out{{"kind", to_string(id.kind)},
                                                                 {"name", id.name}};
  for (auto [key, value] : {std::pair<std::string_view, const std::string&>{"unit", id.unit},
                            {"user", id.user},
                            {"session", id.session},
                            {"runtime", id.runtime},
                            {"container_id", id.container_id},
                            {"pod_uid", id.pod_uid},
                            {"qos_class", id.qos_class}})
    if (!value.empty()) out.emplace_back(key, value);
  return out;
}

CgroupIdentity identify_cgroup(std::string_view path) {
  CgroupIdentity id;
  id.kind = CgroupKind::root;
  Walk walk(id);
  std::string canonical;
  while (!path.empty()) {
    std::size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    canonical += '/';
    canonical += part;
    walk.push(part);
    walk.step(part);
  }
  id.name = display_name(id, canonical.empty() ? "/" : canonical);
  if (id.kind != CgroupKind::other && id.kind != CgroupKind::root && !walk.rest().empty())
    id.name += "/" + walk.rest();
  return id;
}

}  // namespace pressure
