#include <pressure/wait.hpp>

#include <algorithm>
#include <thread>

namespace pressure {

Result<bool> wait_until_ended(Reader& reader, Resource resource, Line line, EndCriteria criteria,
                              std::chrono::nanoseconds timeout) {
  using Clock = std::chrono::steady_clock;
  // New stall may come at any time; look again at least this often, so it is noticed and the
  // quiet period restarts from it.
  const std::chrono::nanoseconds longest_sleep =
      std::max<std::chrono::nanoseconds>(criteria.quiet, std::chrono::seconds(1));
  PressureEnded ended(resource, line, criteria);
  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    Result<Snapshot> snapshot = reader.snapshot();
    if (!snapshot) return tl::unexpected(snapshot.error());
    const Result<Pressure>& p = (*snapshot)[resource];
    if (!p) return tl::unexpected(p.error());
    if (!(*p)[line])
      return fail(Errc::unavailable, "the kernel prints no '" + std::string(to_string(line)) + "' line for " +
                                         std::string(to_string(resource)) + " here");
    PressureEnded::Verdict verdict = ended.observe(*snapshot);
    if (verdict.ended) return true;
    Clock::time_point now = Clock::now();
    if (now >= deadline) return false;
    Clock::time_point wake = std::min({verdict.next_check, now + longest_sleep, deadline});
    std::this_thread::sleep_until(std::max(wake, now + std::chrono::milliseconds(1)));
  }
}

}  // namespace pressure
