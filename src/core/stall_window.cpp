#include "core/stall_window.hpp"

#include <algorithm>

namespace pressure::core {

void StallWindow::add(Clock::time_point t, std::uint64_t total_us) {
  if (!m_samples.empty() && total_us < m_samples.back().total_us) m_samples.clear();
  m_samples.push_back({t, total_us});
  // Keep one sample at or before the window's start, for interpolation.
  while (m_samples.size() > 2 && m_samples[1].t <= t - m_window) m_samples.pop_front();
}

double StallWindow::Growth::share() const {
  if (span.count() <= 0) return 0.0;
  return std::clamp(static_cast<double>(stall_us) * 1000.0 / static_cast<double>(span.count()), 0.0, 1.0);
}

std::optional<StallWindow::Growth> StallWindow::growth() const {
  if (m_samples.size() < 2) return std::nullopt;
  const Sample& newest = m_samples.back();
  Clock::time_point start = newest.t - m_window;
  const Sample& first = m_samples.front();
  Growth g;
  if (first.t >= start) {
    g.stall_us = newest.total_us - first.total_us;
    g.span = newest.t - first.t;
    return g;
  }
  // first.t < start <= second.t: interpolate the total at `start`.
  const Sample& second = m_samples[1];
  double fraction =
      static_cast<double>((start - first.t).count()) / static_cast<double>((second.t - first.t).count());
  double at_start =
      static_cast<double>(first.total_us) + fraction * static_cast<double>(second.total_us - first.total_us);
  g.stall_us = static_cast<std::uint64_t>(std::max(0.0, static_cast<double>(newest.total_us) - at_start));
  g.span = m_window;
  return g;
}

bool StallWindow::should_fire(std::uint64_t stall_us) {
  if (m_samples.empty()) return false;
  Clock::time_point now = m_samples.back().t;
  if (m_last_event && now < *m_last_event + m_window) return false;
  std::optional<Growth> g = growth();
  if (!g || g->stall_us < stall_us) return false;
  m_last_event = now;
  return true;
}

}  // namespace pressure::core
