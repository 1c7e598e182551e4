// Steering memory.high (senpai): hold a little memory pressure by moving the limit; back off
// fast, probe slowly. next_limit() is the step, a pure function; steer() measures and writes it.
#include <algorithm>
#include <cmath>

#include "policy/engine_parts.hpp"
#include "sys/control.hpp"

namespace pressure::policy::engine {
namespace {

using std::chrono::duration_cast;
using std::chrono::nanoseconds;

// The limit now: the file's value, or the group's usage while it is unlimited ("max", or the
// v1 "unlimited" of 19+ digits). Nothing when neither can be read.
std::optional<std::pair<std::uint64_t, bool>> current_limit(const Context& ctx, const RuleState& s,
                                                            const std::string& file) {
  Result<std::string> text = sys::read_control(file);
  bool unlimited = !text || *text == "max" || text->size() >= 19;
  std::uint64_t limit = unlimited ? 0 : std::strtoull(text->c_str(), nullptr, 10);
  if (unlimited || limit == 0) {
    auto m = sys::cgroup_memory(ctx.cgroup_root, s.target(), ctx.proc_root(), ctx.io());
    if (!m) return std::nullopt;
    limit = m->bytes;
  }
  return std::make_pair(limit, unlimited);
}

// Memory some stalled since the previous step, and over how long (µs); nothing on the first
// reading, after `total` went backwards, or when no time passed.
std::optional<std::pair<double, double>> stalled_since(Context& ctx, RuleState& s) {
  TimePoint now = ctx.clock.now();
  Result<Pressure> p = s.reader->read(Resource::memory);
  if (!p) (void)target_removed(ctx, s, p.error());
  if (!p || !p->some) return std::nullopt;
  std::uint64_t total = p->some->total_us;
  std::optional<std::uint64_t> before = s.steer_total;
  TimePoint then = s.steer_t;
  s.steer_total = total;
  s.steer_t = now;
  if (!before || total < *before) return std::nullopt;
  double span_us = std::chrono::duration<double, std::micro>(now - then).count();
  if (span_us <= 0) return std::nullopt;
  return std::make_pair(static_cast<double>(total - *before), span_us);
}

// Writes a step. Every step is counted; a step is logged when the direction turns, or when it
// fails.
void write_step(Context& ctx, RuleState& s, Decision d, const std::string& file, Step step) {
  bool turned = step.direction != s.steer->direction;
  auto steer_failed = [file](Decision& failed, const Error& error) {
    failed.severity = Decision::Severity::error;
    failed.result = "failed";
    failed.detail = "cannot steer " + file + ": " + error.message();
  };
  s.steer->busy = true;
  Result<void> queued = ctx.actuator.write_control(
      file, std::to_string(step.limit),
      [d, turned, direction = step.direction, steer_failed, steer = s.steer, counters = ctx.counters,
       report = ctx.detached_reporter()](const Result<void>& written) mutable {
        steer->busy = false;
        if (written) steer->direction = direction;
        if (!written) steer_failed(d, written.error());
        if (written && !turned)
          counters->add(d.rule, "memory-high", d.result);
        else
          report(d, "memory-high");
      });
  if (!queued) {
    s.steer->busy = false;
    steer_failed(d, queued.error());
    ctx.count(s.rule, d.result);
    ctx.report(d);
  }
}

}  // namespace

Step next_limit(std::uint64_t limit, double stalled_us, double span_us, const MemoryHigh& mh) {
  double target = mh.target_share * span_us;
  double factor;
  Step step;
  if (stalled_us > target) {
    double err = stalled_us / std::max(target, 1.0);
    factor = 1.0 + std::min(std::pow(err / 20.0, 2.0), 1.0);
    step.direction = 1;
  } else {
    double err = target / std::max(stalled_us, 1.0);
    factor = 1.0 - std::min(std::pow(err / 10.0, 2.0) * 0.01, 0.01);
    step.direction = -1;
  }
  auto next = static_cast<std::uint64_t>(static_cast<double>(limit) * factor);
  next = std::max(next, mh.min_bytes);
  if (mh.max_bytes != 0) next = std::min(next, mh.max_bytes);
  step.limit = next / 4096 * 4096;
  return step;
}

void steer(Context& ctx, RuleState& s) {
  if (s.steer->busy) return;  // the last step is still being written: measure across both
  const MemoryHigh& mh = s.rule.memory_high;
  std::optional<std::pair<double, double>> stalled = stalled_since(ctx, s);
  if (!stalled) return;
  auto [stalled_us, span_us] = *stalled;
  bool v1 = false;
  std::string file = memory_limit_file(ctx, s, v1);
  auto current = current_limit(ctx, s, file);
  if (!current) return;
  auto [limit, unlimited] = *current;
  Step step = next_limit(limit, stalled_us, span_us, mh);
  if (step.limit == limit && !unlimited) return;
  Decision d = ctx.decision(s, Decision::Severity::info, "memory-high", "");
  d.share = stalled_us / span_us;
  d.measured = "memory some " + percent(d.share) + " over " +
               seconds(duration_cast<nanoseconds>(std::chrono::duration<double, std::micro>(span_us))) +
               " (target " + percent(mh.target_share) + ")";
  d.result = ctx.ok_result();
  d.detail = d.measured + "; " + (step.direction > 0 ? "backing off: " : "probing: ") + file + " " +
             std::to_string(limit) + " -> " + std::to_string(step.limit) + ctx.said("", " (dry run)");
  write_step(ctx, s, d, file, step);
}

}  // namespace pressure::policy::engine
