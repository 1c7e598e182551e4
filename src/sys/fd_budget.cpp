// The fd budget of a CgroupSet: a share of RLIMIT_NOFILE, whose soft limit is raised (never
// past the hard limit, which an unprivileged process may not raise) when the groups need it.
#include <cerrno>

#include <sys/resource.h>

#include "sys/cgroup_tree.hpp"

namespace pressure::sys {

namespace {

// What the rest of the program keeps: a quarter of the limit, at least 64 fds.
std::size_t reserve(std::uint64_t soft) {
  return std::max<std::size_t>(64, static_cast<std::size_t>(soft / 4));
}

}  // namespace

FdBudget::FdBudget(std::size_t fixed) : m_fixed(fixed != 0), m_limit(fixed) {
  if (!m_fixed) from_rlimit();
}

void FdBudget::from_rlimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) limit = {1024, 1024};
  m_soft = limit.rlim_cur;
  m_hard = limit.rlim_max;
  std::size_t keep = reserve(m_soft);
  m_limit = m_soft > keep ? static_cast<std::size_t>(m_soft) - keep : 0;
}

bool FdBudget::take(std::size_t more) {
  if (m_held + more > m_limit && !m_fixed && !m_exhausted && m_soft < m_hard) {
    // Room for twice what is held now, so that a growing tree raises the limit a few times only.
    std::uint64_t want = (m_held + more) * 2;
    want += reserve(want);
    rlimit limit{};
    limit.rlim_max = m_hard;
    limit.rlim_cur = std::min<std::uint64_t>(std::max<std::uint64_t>(want, m_soft), m_hard);
    std::uint64_t before = m_soft;
    if (::setrlimit(RLIMIT_NOFILE, &limit) == 0) {
      if (m_raised_from == 0) m_raised_from = before;
      from_rlimit();
    } else {
      m_exhausted = true;
    }
  }
  if (m_held + more > m_limit) return false;
  m_held += more;
  return true;
}

void FdBudget::exhausted() {
  m_exhausted = true;
  m_fixed = true;
  m_limit = m_held;
}

std::string FdBudget::notice(std::size_t reopened) const {
  if (reopened == 0) return {};
  std::string why = m_soft != 0 ? "RLIMIT_NOFILE is " + std::to_string(m_soft) + " (hard limit " +
                                      std::to_string(m_hard) + ")"
                                : "the budget was set to " + std::to_string(m_limit);
  if (m_exhausted && m_soft != 0) why = "the process ran out of file descriptors (" + why + ")";
  return "keeping " + std::to_string(m_held) + " file descriptors open, the most allowed: " + why + "; " +
         std::to_string(reopened) +
         " groups are read by opening and closing their files each time (slower; raise the limit, "
         "e.g. LimitNOFILE= or ulimit -n, to keep them open)";
}

}  // namespace pressure::sys
