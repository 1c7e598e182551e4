#include "top/model.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include <fmt/core.h>

#include <pressure/cgroup_identity.hpp>
#include <pressure/window.hpp>

#include "core/printable.hpp"

namespace pressure::top {
namespace {

constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

double sort_value(double v) { return std::isnan(v) ? -1.0 : v; }

// Cut to `width` columns, keeping the end of long names (the leaf is what people know).
std::string fit_left(const std::string& text, std::size_t width, bool utf8) {
  std::size_t n = columns(text);
  if (n <= width) return text + std::string(width - n, ' ');
  std::string ellipsis = utf8 ? "\u2026" : "~";
  // Drop code points from the front until it fits after the ellipsis.
  std::size_t drop = n - (width - 1), pos = 0;
  while (drop > 0 && pos < text.size()) {
    ++pos;
    while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
    --drop;
  }
  return ellipsis + text.substr(pos);
}

// Cut to `width` columns at the end.
std::string clip(const std::string& text, std::size_t width) {
  std::size_t cols = 0, pos = 0;
  while (pos < text.size()) {
    std::size_t next = pos + 1;
    while (next < text.size() && (static_cast<unsigned char>(text[next]) & 0xC0) == 0x80) ++next;
    if (cols + 1 > width) break;
    ++cols;
    pos = next;
  }
  return text.substr(0, pos);
}

std::string share_text(double v, std::size_t width) {
  if (std::isnan(v)) return fmt::format("{:>{}}", "-", width);
  return fmt::format("{:>{}.1f}", v, width);
}

}  // namespace

std::size_t index_of(Key key) {
  return static_cast<std::size_t>(key.resource) * 2 + static_cast<std::size_t>(key.line);
}
std::string key_name(Key key) {
  return std::string(to_string(key.resource)) + " " + std::string(to_string(key.line));
}

std::size_t columns(std::string_view text) {
  std::size_t n = 0;
  for (char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

void Model::update_row(Row& row, const Snapshot& snapshot) {
  for (std::size_t i = 0; i < 8; ++i) {
    row.share[i] = k_nan;
    row.avg10[i].reset();
  }
  for (Resource r : k_resources) {
    const Result<Pressure>& p = snapshot[r];
    if (!p) continue;
    for (Line l : k_lines) {
      const std::optional<Stall>& s = (*p)[l];
      if (!s) continue;
      std::size_t i = index_of({r, l});
      row.avg10[i] = s->avg10;
      if (row.previous) {
        double share = stall_share(*row.previous, snapshot, r, l);
        if (!std::isnan(share)) row.share[i] = share * 100.0;
      }
    }
  }
  if (row.previous) {
    row.history.emplace_back(snapshot.monotonic, row.share);
    while (!row.history.empty() && snapshot.monotonic - row.history.front().first > m_span)
      row.history.pop_front();
  }
  row.previous = snapshot;
}

void Model::update(const Snapshot& system, const std::vector<CgroupSnapshot>& groups) {
  if (!m_system) {
    m_system.emplace();
    m_system->name = "system";
  }
  update_row(*m_system, system);
  std::vector<Row> next;
  next.reserve(groups.size());
  for (const CgroupSnapshot& g : groups) {
    if (!g.snapshot) continue;
    auto old = std::find_if(m_groups.begin(), m_groups.end(), [&](const Row& r) { return r.name == g.path; });
    Row row;
    if (old != m_groups.end())
      row = std::move(*old);
    else
      row = Row{.name = g.path, .shown = identify_cgroup(g.path).name};
    update_row(row, *g.snapshot);
    next.push_back(std::move(row));
  }
  m_groups = std::move(next);
}

bool Model::key(int ch) {
  if (m_editing) {
    if (ch == k_enter || ch == '\r') {
      m_editing = false;
    } else if (ch == k_escape) {
      m_filter = m_filter_before;
      m_editing = false;
    } else if (ch == k_backspace || ch == 8 || ch == 263 /* KEY_BACKSPACE */) {
      if (!m_filter.empty()) m_filter.pop_back();
    } else if (ch >= 32 && ch < 127) {
      m_filter += static_cast<char>(ch);
    }
    return true;
  }
  auto pick = [&](Resource r) {
    Line l = r == Resource::irq ? Line::full : m_sort.line;
    m_sort = {r, l};
  };
  switch (ch) {
    case 'q':
    case 'Q': return false;
    case 'c': pick(Resource::cpu); break;
    case 'm': pick(Resource::memory); break;
    case 'i': pick(Resource::io); break;
    case 'r': pick(Resource::irq); break;
    case 's':
      if (m_sort.resource != Resource::irq) m_sort.line = Line::some;
      break;
    case 'f': m_sort.line = Line::full; break;
    case k_tab: {
      auto at = std::find(k_keys.begin(), k_keys.end(), m_sort);
      m_sort = at == k_keys.end() || at + 1 == k_keys.end() ? k_keys.front() : *(at + 1);
      break;
    }
    case ' ':
    case 'p': m_paused = !m_paused; break;
    case '/':
      m_editing = true;
      m_filter_before = m_filter;
      break;
    case k_escape: m_filter.clear(); break;
    default: break;
  }
  return true;
}

std::vector<const Row*> Model::cgroups() const {
  std::vector<const Row*> out;
  std::string needle = lower(m_filter);
  for (const Row& row : m_groups)
    if (needle.empty() || lower(row.name).find(needle) != std::string::npos ||
        lower(row.shown).find(needle) != std::string::npos)
      out.push_back(&row);
  std::size_t k = index_of(m_sort);
  std::stable_sort(out.begin(), out.end(), [k](const Row* a, const Row* b) {
    double sa = sort_value(a->share[k]), sb = sort_value(b->share[k]);
    if (sa != sb) return sa > sb;
    std::uint32_t aa = a->avg10[k] ? a->avg10[k]->hundredths() : 0,
                  ab = b->avg10[k] ? b->avg10[k]->hundredths() : 0;
    if (aa != ab) return aa > ab;
    return a->name < b->name;
  });
  return out;
}

std::string Model::sparkline(const Row& row, Key key, std::size_t width, bool utf8) const {
  static constexpr std::array<const char*, 9> k_blocks{" ",      "\u2581", "\u2582", "\u2583", "\u2584",
                                                       "\u2585", "\u2586", "\u2587", "\u2588"};
  static constexpr std::string_view k_ascii = " .:-=+*#%@";
  std::string out;
  if (width == 0) return out;
  std::vector<double> cells(width, k_nan);
  if (!row.history.empty()) {
    // The last `m_span` in `width` cells, each the highest share in it (a short spike shows).
    auto end = row.history.back().first;
    double span = std::chrono::duration<double>(m_span).count();
    for (const auto& [time, shares] : row.history) {
      double age = std::chrono::duration<double>(end - time).count();
      auto cell = static_cast<long>(width) - 1 - static_cast<long>(age / span * static_cast<double>(width));
      if (cell < 0) continue;
      double v = shares[index_of(key)];
      if (std::isnan(v)) continue;
      double& c = cells[static_cast<std::size_t>(cell)];
      c = std::isnan(c) ? v : std::max(c, v);
    }
  }
  std::size_t levels = utf8 ? k_blocks.size() - 1 : k_ascii.size() - 1;
  for (double v : cells) {
    std::size_t level = 0;
    if (!std::isnan(v) && v >= 0.5)
      level = 1 + std::min(levels - 1, static_cast<std::size_t>(v / 100.0 * static_cast<double>(levels)));
    if (utf8)
      out += k_blocks[level];
    else
      out += k_ascii[level];
  }
  return out;
}

namespace {

// The screen being filled: lines clipped and padded to the width, none past the height.
struct Lines {
  Screen screen;
  std::size_t width;
  std::size_t height;  // 0: no limit

  void add(const std::string& line, bool emphasized = false) {
    if (height != 0 && screen.lines.size() >= height) return;
    if (emphasized) screen.emphasized.push_back(screen.lines.size());
    std::string cut = clip(line, width);
    std::size_t n = columns(cut);
    screen.lines.push_back(cut + std::string(n < width ? width - n : 0, ' '));
  }
};

// The system: one row per line the kernel has.
void add_system(Lines& lines, const Model& model, const LayoutOptions& o) {
  constexpr std::size_t k_spark_min = 10;
  std::size_t w = lines.width;
  std::size_t spark_system = std::min<std::size_t>(60, w > 34 + k_spark_min ? w - 34 : k_spark_min);
  lines.add(fmt::format("{:<14} {:>7} {:>8}  {}", "SYSTEM", "AVG10", "SHARE%", "LAST MINUTE (share)"), true);
  if (model.has_system()) {
    const Row& s = model.system();
    for (Key k : k_keys) {
      std::size_t i = index_of(k);
      if (!s.avg10[i]) continue;
      std::string mark = k == model.sort() ? "*" : " ";
      lines.add(
          fmt::format("{}{:<13} {:>7} {}  {}", mark, key_name(k),
                      fmt::format("{}.{:02}", s.avg10[i]->hundredths() / 100, s.avg10[i]->hundredths() % 100),
                      share_text(s.share[i], 8), model.sparkline(s, k, spark_system, o.utf8)));
    }
  }
  lines.add("");
}

// The cgroups: shares per line, a sparkline of the sort key.
void add_cgroups(Lines& lines, const Model& model, const LayoutOptions& o) {
  static constexpr std::array<Key, 6> k_columns{k_keys[0], k_keys[1], k_keys[2],
                                                k_keys[3], k_keys[4], k_keys[5]};
  static constexpr std::array<const char*, 6> k_titles{"CPU-S", "CPU-F", "MEM-S", "MEM-F", "IO-S", "IO-F"};
  std::vector<const Row*> rows = model.cgroups();
  std::size_t spark = lines.width >= 100 ? 30 : 16;
  std::size_t name_width = lines.width > 6 * 7 + spark + 2 ? lines.width - 6 * 7 - spark - 2 : 10;
  if (o.full_names) {
    for (const Row* row : rows) name_width = std::max(name_width, columns(core::printable(row->shown)));
    lines.width = std::max(lines.width, name_width + 6 * 7 + spark + 2);
  }
  std::string header =
      fmt::format("{:<{}}", fmt::format("CGROUPS {}/{}", rows.size(), model.cgroup_count()), name_width);
  for (std::size_t c = 0; c < k_columns.size(); ++c)
    header += fmt::format(" {:>6}", std::string(k_columns[c] == model.sort() ? "*" : "") + k_titles[c]);
  header += "  " + key_name(model.sort());
  lines.add(header, true);
  std::size_t footer = o.height != 0 ? 1 : 0;
  for (const Row* row : rows) {
    if (o.height != 0 && lines.screen.lines.size() + footer >= o.height) break;
    // A group's name is outside text: its control characters never reach the terminal.
    std::string line = fit_left(core::printable(row->shown), name_width, o.utf8);
    for (Key k : k_columns) line += " " + share_text(row->share[index_of(k)], 6);
    line += "  " + model.sparkline(*row, model.sort(), spark, o.utf8);
    lines.add(line);
  }
  if (rows.empty()) lines.add(model.filter().empty() ? "(no cgroups)" : "(no cgroup matches the filter)");
}

}  // namespace

Screen layout(const Model& model, const LayoutOptions& o) {
  Lines lines{{}, std::max<std::size_t>(o.width, 40), o.height};
  std::string state = model.paused() ? "  PAUSED" : "";
  std::string filter = model.editing_filter()   ? "  filter: " + model.filter() + "_"
                       : model.filter().empty() ? ""
                                                : "  filter: " + model.filter();
  lines.add(fmt::format("pressure top  {}  every {:g}s  sort: {}{}{}", o.clock, o.interval,
                        key_name(model.sort()), filter, state),
            true);
  add_system(lines, model, o);
  add_cgroups(lines, model, o);
  if (o.height != 0) {
    while (lines.screen.lines.size() + 1 < o.height) lines.add("");
    lines.add("sort: c/m/i/r s/f Tab  filter: / Esc  pause: space  quit: q", true);
  }
  return lines.screen;
}

}  // namespace pressure::top
