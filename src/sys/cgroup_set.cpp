// CgroupSet: the groups matching selectors, kept open. Each update walks the selectors down a
// tree of kept directory fds: a directory is listed with getdents64 only when a selector may
// match below it (and not at all when its link count says it has no subdirectories), a listed
// child whose inode is the one held is the same group, and whatever was not walked through is
// closed and reported gone.
#include <pressure/cgroup_set.hpp>

#include <cerrno>
#include <mutex>
#include <utility>

#include <fcntl.h>

#include "core/cgroup_path.hpp"
#include "sys/cgroup_read.hpp"
#include "sys/cgroup_tree.hpp"

namespace pressure {

using sys::CgroupNode;
using sys::Fd;

namespace {

std::string join(const std::string& parent, std::string_view name) {
  return (parent == "/" ? "/" : parent + "/") + std::string(name);
}

}  // namespace

struct CgroupSet::Impl {
  Impl(std::vector<CgroupSelector> s, CgroupSetOptions o)
      : selectors(std::move(s)),
        options(std::move(o)),
        io(options.reader.io_or_real()),
        budget(options.fd_budget),
        reader(io, budget, options.memory, options.keep_files, root) {}

  std::vector<CgroupSelector> selectors;
  CgroupSetOptions options;
  const Io& io;
  sys::FdBudget budget;
  std::string root;  // the cgroup2 mount, once found
  sys::GroupReader reader;
  std::unique_ptr<CgroupNode> top;  // the mount's own directory
  std::uint64_t generation = 0;
  std::vector<CgroupGone> gone;  // this update's
  std::size_t reopened = 0;      // this update's groups read past the budget
  mutable std::mutex mutex;      // guards latest and status
  Reading latest;
  CgroupSetStatus status;

  Result<void> find_root();
  int dir_fd(CgroupNode& node, Fd& temp);
  const std::vector<DirectoryEntry>& list(CgroupNode& node, int fd);
  std::unique_ptr<CgroupNode> make_node(const CgroupNode& parent, int parent_fd, const DirectoryEntry& entry);
  CgroupNode* child(CgroupNode& parent, int parent_fd, const DirectoryEntry& entry);
  void drop(std::unique_ptr<CgroupNode> node);
  Result<CgroupNode*> walk_base(const CgroupSelector& selector);
  void visit(CgroupNode& node, const CgroupSelector& selector, CgroupSelector::State state);
  void sweep(CgroupNode& node);
  void read(CgroupNode& node, const sys::Clocks& now, CgroupSetReading& out);
  Result<Reading> update();
};

Result<void> CgroupSet::Impl::find_root() {
  if (top) return {};
  Result<std::string> found = cgroup2_root(options.reader);
  if (!found) return tl::unexpected(found.error());
  int fd = io.open_at(AT_FDCWD, found->c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return tl::unexpected(sys::open_error(-fd, *found, "the cgroup tree"));
  root = *found;
  top = std::make_unique<CgroupNode>();
  top->path = "/";
  top->dir = Fd(&io, fd);
  FileIdentity identity;
  if (io.identify(fd, "", identity) == 0) top->id = identity.inode;
  top->held = budget.take(1) ? 1 : 0;
  return {};
}

// The node's directory: its kept fd, or opened into `temp` (past the budget, or for one read),
// relative to its parent's kept fd where there is one; -errno when it cannot be opened.
int CgroupSet::Impl::dir_fd(CgroupNode& node, Fd& temp) {
  if (node.dir) return node.dir.get();
  int fd = node.parent != nullptr && node.parent->dir
               ? io.open_at(node.parent->dir.get(), node.name.c_str(), O_RDONLY | O_DIRECTORY)
               : io.open_at(AT_FDCWD, sys::cgroup_directory(root, node.path).c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return fd;
  temp = Fd(&io, fd);
  return fd;
}

const std::vector<DirectoryEntry>& CgroupSet::Impl::list(CgroupNode& node, int fd) {
  if (node.listed == generation) return node.entries;
  node.listed = generation;
  node.entries.clear();
  // A directory's link count is 2 + its subdirectories on cgroupfs (and most file systems):
  // a leaf group costs an fstat, not a listing of its thirty-odd files.
  FileIdentity identity;
  if (io.identify(fd, "", identity) == 0 && identity.links == 2) return node.entries;
  if (io.list_subdirectories(fd, node.entries) < 0) node.entries.clear();  // removed meanwhile
  return node.entries;
}

std::unique_ptr<CgroupNode> CgroupSet::Impl::make_node(const CgroupNode& parent, int parent_fd,
                                                       const DirectoryEntry& entry) {
  auto node = std::make_unique<CgroupNode>();
  node->path = join(parent.path, entry.name);
  node->name = entry.name;
  node->id = entry.inode;
  node->parent = &parent;
  // One read (keep_files off) keeps only the directories it lists; past the budget, directories
  // are opened for each use.
  if (!options.keep_files || !budget.take(1)) return node;
  int fd = io.open_at(parent_fd, entry.name.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) {
    budget.give_back(1);
    if (-fd == ENOENT || -fd == ENOTDIR) return nullptr;  // removed since the listing
    if (-fd == EMFILE || -fd == ENFILE) budget.exhausted();
    return node;
  }
  node->dir = Fd(&io, fd);
  node->held = 1;
  return node;
}

CgroupNode* CgroupSet::Impl::child(CgroupNode& parent, int parent_fd, const DirectoryEntry& entry) {
  auto it = parent.children.find(entry.name);
  if (it != parent.children.end()) {
    if (it->second->id == entry.inode) return it->second.get();
    // Removed and made again under the same name: another group.
    drop(std::move(it->second));
    parent.children.erase(it);
  }
  std::unique_ptr<CgroupNode> node = make_node(parent, parent_fd, entry);
  if (!node) return nullptr;
  return parent.children.emplace(entry.name, std::move(node)).first->second.get();
}

void CgroupSet::Impl::drop(std::unique_ptr<CgroupNode> node) {
  for (auto& [name, c] : node->children) drop(std::move(c));
  if (node->matched + 1 >= generation && node->matched != 0) gone.push_back({node->path, node->id});
  budget.give_back(node->held);
}

// The node of the selector's base, walked to from the mount one literal component at a time,
// each checked against the directory now at that path.
Result<CgroupNode*> CgroupSet::Impl::walk_base(const CgroupSelector& selector) {
  CgroupNode* node = top.get();
  node->seen = generation;
  std::string base = selector.base();
  std::size_t start = 1;
  while (start < base.size()) {
    std::size_t slash = std::min(base.find('/', start), base.size());
    std::string name = base.substr(start, slash - start);
    start = slash + 1;
    Fd temp;
    int fd = dir_fd(*node, temp);
    FileIdentity identity;
    int err = fd < 0 ? -fd : -io.identify(fd, name.c_str(), identity);
    std::string dir = sys::cgroup_directory(root, join(node->path, name));
    if (err == ENOENT || err == ENOTDIR)
      return fail(Errc::not_found,
                  "cgroup " + join(node->path, name) + " does not exist (no directory " + dir + ")", dir,
                  err);
    if (err != 0) return tl::unexpected(sys::open_error(err, dir, "the cgroup tree"));
    node = child(*node, fd, DirectoryEntry{name, identity.inode});
    if (node == nullptr) return fail(Errc::not_found, "cgroup " + base + " was removed", dir, ENOENT);
    node->seen = generation;
  }
  return node;
}

void CgroupSet::Impl::visit(CgroupNode& node, const CgroupSelector& selector, CgroupSelector::State state) {
  node.seen = generation;
  if (selector.accepts(state)) node.matched = generation;
  if (!selector.may_descend(state)) return;
  Fd temp;
  int fd = dir_fd(node, temp);
  if (fd < 0) return;                                        // removed
  if (!node.dir && !options.keep_files && budget.take(1)) {  // a directory listed: its children open below it
    node.dir = std::move(temp);
    node.held += 1;
  }
  for (const DirectoryEntry& entry : list(node, fd)) {
    CgroupSelector::State next = selector.step(state, entry.name);
    if (!selector.accepts(next) && !selector.may_descend(next)) continue;
    if (CgroupNode* c = child(node, fd, entry)) visit(*c, selector, next);
  }
}

void CgroupSet::Impl::sweep(CgroupNode& node) {
  for (auto it = node.children.begin(); it != node.children.end();) {
    if (it->second->seen != generation) {
      drop(std::move(it->second));
      it = node.children.erase(it);
    } else {
      sweep(*it->second);
      ++it;
    }
  }
}

// Every matching group in tree order; a group found removed while read is dropped at once.
void CgroupSet::Impl::read(CgroupNode& node, const sys::Clocks& now, CgroupSetReading& out) {
  if (node.matched == generation) {
    Fd temp;
    int fd = dir_fd(node, temp);
    std::string dir = fd >= 0 ? std::string() : sys::cgroup_directory(root, node.path);
    // A directory that is gone is a removed group; one that cannot be opened (EMFILE, EACCES)
    // is a group that could not be read, and stays.
    CgroupReading reading =
        fd >= 0 ? reader.read(node, fd, now)
        : -fd == ENOENT || -fd == ENOTDIR || -fd == ENODEV
            ? CgroupReading{node.path,
                            node.id,
                            fail(Errc::gone, "cgroup " + node.path + " was removed", dir, -fd),
                            {}}
            : CgroupReading{
                  node.path, node.id, tl::unexpected(sys::open_error(-fd, dir, "the cgroup tree")), {}};
    if (!node.files_kept && options.keep_files) ++reopened;
    if (!reading.snapshot && reading.snapshot.error().code() == Errc::gone)
      node.seen = 0;  // swept below
    else
      out.groups.push_back(std::move(reading));
  }
  for (auto& [name, c] : node.children) read(*c, now, out);
}

Result<CgroupSet::Reading> CgroupSet::Impl::update() {
  if (Result<void> ok = find_root(); !ok) return tl::unexpected(ok.error());
  ++generation;
  gone.clear();
  reopened = 0;
  auto out = std::make_shared<CgroupSetReading>();
  out->generation = generation;
  if (latest) out->groups.reserve(latest->groups.size());
  for (const CgroupSelector& selector : selectors) {
    Result<CgroupNode*> base = walk_base(selector);
    out->selector_errors.push_back(base ? std::nullopt : std::optional<Error>(base.error()));
    if (base) visit(**base, selector, selector.start());
  }
  sweep(*top);
  read(*top, sys::Clocks{std::chrono::system_clock::now(), std::chrono::steady_clock::now()}, *out);
  sweep(*top);  // what read() found removed
  out->gone = std::move(gone);
  CgroupSetStatus s;
  s.groups = out->groups.size();
  s.fds = budget.held();
  s.fd_budget = budget.limit();
  s.reopened = reopened;
  s.notice = budget.notice(s.reopened);
  Reading previous;  // freed outside the lock
  std::lock_guard lock(mutex);
  previous = std::exchange(latest, out);
  status = std::move(s);
  return out;
}

CgroupSet::CgroupSet(std::vector<CgroupSelector> selectors, CgroupSetOptions options)
    : m_impl(std::make_unique<Impl>(std::move(selectors), std::move(options))) {}
CgroupSet::~CgroupSet() = default;
CgroupSet::CgroupSet(CgroupSet&&) noexcept = default;
CgroupSet& CgroupSet::operator=(CgroupSet&&) noexcept = default;

Result<CgroupSet::Reading> CgroupSet::update() { return m_impl->update(); }

CgroupSet::Reading CgroupSet::latest() const {
  std::lock_guard lock(m_impl->mutex);
  return m_impl->latest;
}

CgroupSetStatus CgroupSet::status() const {
  std::lock_guard lock(m_impl->mutex);
  return m_impl->status;
}

}  // namespace pressure
