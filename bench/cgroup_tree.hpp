// The benchmarks' own cgroups: a parent group and children g0000, g0001, ... under it, recorded
// in static data so that an exit handler or a signal handler can remove exactly those
// (async-signal-safe: only rmdir and this data).
#pragma once

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstring>

#include <unistd.h>

namespace bench {

inline char g_parent[4096];  // absolute path of our parent cgroup
inline volatile std::sig_atomic_t g_parent_made = 0;
inline volatile std::sig_atomic_t g_children = 0;  // children up to this index may exist (we made them)
inline int g_name_width = 4;                       // digits in a child's name

// "g" and `index` in at least g_name_width digits, into out; returns the length.
inline std::size_t child_name(long index, char* out) {
  char digits[24];
  int n = 0;
  for (long v = index; v > 0 || n < g_name_width; v /= 10) digits[n++] = static_cast<char>('0' + v % 10);
  std::size_t len = 0;
  out[len++] = 'g';
  while (n > 0) out[len++] = digits[--n];
  out[len] = '\0';
  return len;
}

// g_parent + "/" + child_name(index) into out (at least sizeof g_parent + 32 bytes).
inline void child_path(long index, char* out) {
  std::size_t base = std::strlen(g_parent);
  std::memcpy(out, g_parent, base);
  out[base] = '/';
  child_name(index, out + base + 1);
}

// Removes our children, then our parent. Safe to call more than once and from a signal handler.
// Returns how many directories could not be removed.
inline int remove_tree() {
  if (!g_parent_made) return 0;
  int failures = 0;
  char path[sizeof g_parent + 32];
  for (long i = g_children - 1; i >= 0; --i) {
    child_path(i, path);
    if (::rmdir(path) != 0 && errno != ENOENT) ++failures;
  }
  g_children = 0;
  if (::rmdir(g_parent) != 0 && errno != ENOENT)
    ++failures;
  else
    g_parent_made = 0;
  return failures;
}

}  // namespace bench
